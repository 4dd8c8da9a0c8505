import type { MikroORM } from '../../src/db/orm.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import type { WebEventMap } from '../../src/shared/web-events.ts';
import { createWebApp } from '../../src/web/app.ts';
import { ConnectionHealthCheckJob } from '../../src/web/health/connection-health-check-job.ts';
import { HealthSupervisor } from '../../src/web/health/health-supervisor.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { WebMetrics } from '../../src/web/metrics/web-metrics.ts';
import { IRC_SERVICE_URL, TOKEN } from './fixtures.ts';

/**
 * The web side assembled as main.ts does, against a test database and the msw stand-in of the IRC
 * service. The supervisor is not started (as under NODE_ENV=test): tests start it. The interval is
 * long enough that no periodic check fires during a test.
 */
export function assembleWeb(
  orm: MikroORM,
  options: { failureThreshold?: number; timeoutMs?: number; webPassword?: string } = {},
) {
  const events = new EventStream<WebEventMap>({ heartbeatMs: 0 });
  const metrics = new WebMetrics({ sseClients: () => events.clientCount });
  const client = new InternalApiClient({
    baseUrl: IRC_SERVICE_URL,
    token: TOKEN,
    timeoutMs: options.timeoutMs ?? 2_000,
  });
  const job = new ConnectionHealthCheckJob({ orm, client, events });
  const supervisor = new HealthSupervisor({
    job,
    events,
    intervalMs: 3_600_000,
    failureThreshold: options.failureThreshold ?? 3,
    metrics,
  });
  const app = createWebApp({ orm, supervisor, events, ircService: client, metrics, webPassword: options.webPassword });
  return {
    app,
    events,
    supervisor,
    metrics,
    async close() {
      await supervisor.stop();
      events.close();
    },
  };
}
