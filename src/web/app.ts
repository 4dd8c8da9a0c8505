/** The web side's Hono app built from its dependencies (API, dashboard, events, probes); it never listens itself. */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { MikroORM } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import type { EventStream } from '../shared/sse/event-stream.ts';
import type { IrcNodeView, WebEventMap } from '../shared/web-events.ts';
import { eventsRoutes } from './browser-events/events.routes.ts';
import type { WebEventPublisher } from './browser-events/web-event-publisher.ts';
import { dashboardRoutes } from './dashboard/dashboard.routes.ts';
import { healthCheckRoutes } from './health/health-check.routes.ts';
import type { HealthSupervisorView } from './health/health-supervisor.ts';
import { probeRoutes } from './http/probe.routes.ts';
import { webPasswordAuth } from './http/web-password.ts';
import type { IrcCluster } from './irc-service/irc-cluster.ts';
import { ircNodesRoutes, type NodeDrainCommands } from './irc-service/irc-nodes.routes.ts';
import { machinesRoutes } from './machines/machines.routes.ts';
import { metricsRoutes } from './metrics/metrics.routes.ts';
import type { WebMetrics } from './metrics/web-metrics.ts';
import type { ConnectionStates } from './servers/connection-states.ts';
import { type IrcServiceCommands, serversRoutes } from './servers/servers.routes.ts';
import type { WantedConnections } from './servers/wanted-connections.ts';

export interface WebAppDeps {
  orm: MikroORM;
  supervisor: HealthSupervisorView;
  /** This instance's `/events` stream. */
  events: EventStream<WebEventMap>;
  /** Where changes are broadcast (the LISTEN/NOTIFY fan-out to every instance); `events` itself by default. */
  publisher?: WebEventPublisher;
  /** The IRC service's connection commands (the InternalApiClient). */
  ircService: IrcServiceCommands;
  /** Passes the operator's committed wishes on to the IRC service (the health check's reconciler); the routes' own by default. */
  reconciler?: Pick<WantedConnections, 'converge'>;
  /** What `GET /metrics` exposes; the supervisor and the IRC event consumer report to the same one. */
  metrics: WebMetrics;
  /** Each server's connection as the IRC service last reported it (kept by the IRC event consumer). */
  connections?: ConnectionStates;
  /** The IRC service nodes, where a route's wish to connect places its server; a one-node cluster of `ircService` by default. */
  cluster?: IrcCluster<unknown>;
  /** The IRC service nodes as `GET /api/irc-nodes` lists them; none without it (tests that do not look). */
  ircNodes?: () => readonly IrcNodeView[] | Promise<readonly IrcNodeView[]>;
  /** Drain and undrain of a node (NodeDrain); without it they answer `404`. */
  drain?: NodeDrainCommands;
  /** WEB_PASSWORD: when set, every route but /healthz needs it (HTTP basic auth). */
  webPassword?: string;
  logger?: Logger;
}

/** The web side's HTTP app, built from its dependencies; it never listens by itself. */
export function createWebApp(deps: WebAppDeps): Hono {
  const app = new Hono();
  if (deps.webPassword) app.use('*', webPasswordAuth(deps.webPassword));
  app.route('/', probeRoutes({ orm: deps.orm }));
  app.route('/', eventsRoutes(deps.events));
  app.route('/', healthCheckRoutes(deps.supervisor, deps.events));
  app.route(
    '/api/servers',
    serversRoutes({
      orm: deps.orm,
      ircService: deps.ircService,
      events: deps.publisher ?? deps.events,
      reconciler: deps.reconciler,
      connections: deps.connections,
      cluster: deps.cluster,
      logger: deps.logger,
    }),
  );
  app.route('/', ircNodesRoutes({ nodes: deps.ircNodes ?? (() => []), drain: deps.drain, events: deps.events }));
  app.route('/', machinesRoutes());
  app.route('/', metricsRoutes(deps.metrics));
  app.route('/', dashboardRoutes());

  // an API client gets JSON for a route that does not exist, as for every other refusal
  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ error: { message: `no route ${c.req.method} ${c.req.path}` } }, 404)
      : c.text('404 Not Found', 404),
  );

  // every error answers JSON `{"error":{"message"}}`; a route that built its own response keeps it
  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      if (error.res) return error.getResponse();
      if (error.status >= 500) deps.logger?.warn({ err: error.cause ?? error }, error.message);
      return c.json({ error: { message: error.message } }, error.status);
    }
    deps.logger?.error({ err: error, path: c.req.path }, 'request failed');
    return c.json({ error: { message: 'internal error' } }, 500);
  });
  return app;
}
