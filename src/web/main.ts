/** Entry point of the web process: reads the configuration, wires the database, the IRC service client and the supervisor, and serves. */

import { serve } from '@hono/node-server';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/database-url.ts';
import { migrate, openOrm } from '../db/orm.ts';
import { createLogger } from '../logger.ts';
import { machineTreeTransitionLogger } from '../machine-logging.ts';
import { listen } from '../process/listen.ts';
import { runMain } from '../process/run-main.ts';
import { errorMessage } from '../shared/error-text.ts';
import { EventStream } from '../shared/sse/event-stream.ts';
import type { WebEventMap } from '../shared/web-events.ts';
import { createWebApp } from './app.ts';
import { PostgresEventFanout } from './browser-events/event-fanout.ts';
import { ConnectionHealthCheckJob } from './health/connection-health-check-job.ts';
import { HealthSupervisor } from './health/health-supervisor.ts';
import { NodeDrain } from './health/node-drain.ts';
import { ReconcilerLock } from './health/reconciler-lock.ts';
import { applyIrcEvents, applyNodeConnectionLists } from './irc-events/irc-event-applier.ts';
import { IrcEventConsumer } from './irc-events/irc-event-consumer.ts';
import { IrcCluster } from './irc-service/irc-cluster.ts';
import { WebMetrics } from './metrics/web-metrics.ts';
import { ConnectionStates } from './servers/connection-states.ts';
import { WantedConnections } from './servers/wanted-connections.ts';

await runMain('web', async (onShutdown) => {
  const config = loadConfig(process.env, 'web');
  const logger = createLogger('web', config.LOG_LEVEL);
  const token = config.INTERNAL_API_TOKEN;
  const database = await openDatabase(config, logger);
  onShutdown(() => database.stop());
  const orm = await openOrm(database.url);
  onShutdown(() => orm.close());
  const applied = await migrate(orm);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');

  const events = new EventStream<WebEventMap>();
  const metrics = new WebMetrics({ sseClients: () => events.clientCount });
  // every change reaches the browsers of every web instance sharing this database
  const publisher = new PostgresEventFanout({ url: database.url, stream: events, logger });
  await publisher.start();
  // IRC_SERVICE_URLS names every node; IRC_SERVICE_URL alone is a one-node cluster whose name its first
  // status answer tells
  const cluster = IrcCluster.fromConfig(config.IRC_SERVICE_URLS ?? [{ name: null, url: config.IRC_SERVICE_URL }], {
    token,
    timeoutMs: config.IRC_STATUS_TIMEOUT_MS,
  });
  const nodeNames = cluster.nodes.map((node) => `${node.name ?? '(named by its first answer)'}=${node.url}`);
  logger.info({ nodes: nodeNames }, 'IRC service nodes');
  // one reconciler at a time across web instances; after each check, wishes and observations converge
  // (the routes pass an operator's wishes on through the same one, after their commit)
  const lock = new ReconcilerLock(database.url);
  const wanted = new WantedConnections({
    orm,
    cluster,
    events: publisher,
    logger,
    staggerMs: config.RECONNECT_STAGGER_MS,
  });
  // a drained node's servers move away one at a time, make-before-break, driven by the reconciler
  const drain = new NodeDrain({
    orm,
    cluster,
    wanted,
    events: publisher,
    logger,
    // the moves start after a check of the reconciler, and the drained node's count drops to 0 at the next one
    requestCheck: () => supervisor.requestCheck(),
  });
  const job = new ConnectionHealthCheckJob({
    orm,
    cluster,
    events: publisher,
    lock,
    wanted,
    drain,
    onNodeChange: (node) => publisher.publish('node-status', node),
    // the node whose check marked them connected holds them
    resync: async (serverIds, nodeUrl) => cluster.nodes.find((node) => node.url === nodeUrl)?.client.resync(serverIds),
    logger,
  });
  const supervisor = new HealthSupervisor({
    job,
    events,
    intervalMs: config.HEALTH_CHECK_INTERVAL_MS,
    failureThreshold: config.HEALTH_CHECK_FAILURE_THRESHOLD,
    logger,
    // the cluster supervisor's transitions, and each node's supervisor's with its node
    inspect: machineTreeTransitionLogger(config.DEBUG_MACHINES, logger, (actorId) =>
      actorId === null
        ? { machine: 'clusterSupervisor' }
        : { machine: 'healthSupervisor', node: actorId.replace(/^node:/, '') },
    ),
    metrics,
  });

  // each server's connection state as the IRC service nodes report it: an observation, kept in memory
  const connections = new ConnectionStates();
  // the watch half of list-then-watch, one stream per node: IRC events applied as they come, a check whenever
  // a stream opens, drops or cannot replay what was missed
  const checkedNodes = job.nodes;
  const consumers = cluster.nodes.map(
    (node, index) =>
      new IrcEventConsumer({
        baseUrl: node.url,
        token,
        apply: (events) => {
          // a move in progress waits for its new node's events (which the applier ignores until the switch)
          for (const event of events) drain.observe(node.name, event);
          return applyIrcEvents(orm.em.fork(), events, connections, node.name);
        },
        // memory starts empty and a reset means changes were missed: every node's connection states are
        // listed afresh (a node that cannot answer lists none), each server's from the node it is placed on
        relist: async () => {
          const lists = await Promise.all(
            cluster.nodes.map(async (each) => ({
              node: each.name,
              states: await each.client.connections().catch(() => []),
            })),
          );
          return applyNodeConnectionLists(orm.em.fork(), connections, lists);
        },
        events: publisher,
        onStreamChange: (change) => {
          // only this node's supervisor checks: the other nodes' streams tell nothing about it
          supervisor.requestCheck(checkedNodes[index]?.key);
          // nothing to resume from: the node's connections tell their channels and users again
          if (change === 'started' || change === 'reset') {
            node.client
              .resync()
              .catch((error: unknown) =>
                logger.warn({ err: errorMessage(error), node: node.url }, 'resync request failed'),
              );
          }
        },
        logger,
        metrics,
      }),
  );

  const app = createWebApp({
    orm,
    supervisor,
    events,
    publisher,
    // the routes pass wishes on through the reconciler, which asks each server's node
    ircService: cluster.nodes[0]!.client,
    reconciler: wanted,
    cluster,
    // the drain as the database has it (another web instance may have drained a node)
    ircNodes: async () => {
      await drain.refresh();
      return cluster.nodes.map((node) => node.view());
    },
    drain,
    metrics,
    connections,
    webPassword: config.WEB_PASSWORD,
    logger,
  });
  const server = await listen(serve, app, config.HOST, config.PORT);

  // Steps run in reverse: no more IRC events, the running check finishes (its writes and broadcasts
  // complete), queued broadcasts go out, the browsers' streams end, the listener closes, the database.
  onShutdown(() => server.close());
  onShutdown(() => events.close());
  onShutdown(() => publisher.stop());
  onShutdown(() => lock.close());
  onShutdown(() => supervisor.stop());
  for (const consumer of consumers) onShutdown(() => consumer.stop());
  // first of all: a move under way is given up (the server stays on its node, its new connection goes)
  onShutdown(() => drain.stop());
  logger.info(`web listening on ${server.url}`);

  // the boot check: the database may say "connected" for connections that died with the last run
  if (config.HEALTH_CHECK_ENABLED) supervisor.start();
  else logger.warn('the health check is disabled (HEALTH_CHECK_ENABLED=false): the database may show dead connections');
  for (const consumer of consumers) consumer.start();
});
