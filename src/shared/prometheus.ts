/** What both sides' `GET /metrics` share: a registry of their own, the process metrics, the exposition. */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** Every metric of this project starts with it; prom-client's process metrics keep their standard names. */
export const METRIC_PREFIX = 'irc_supervisor_';

/**
 * A registry of this process's own (never prom-client's global one, so apps built side by side in tests
 * each count for themselves) with prom-client's default process metrics (`process_*`, `nodejs_*`), left
 * unprefixed so the standard Node.js dashboards read them.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `irc_supervisor_sse_clients`, read from the stream at scrape time. */
export function sseClientsGauge(registry: Registry, clientCount: () => number): Gauge {
  return new Gauge({
    name: `${METRIC_PREFIX}sse_clients`,
    help: 'Clients connected to the server-sent events stream of this side.',
    registers: [registry],
    collect() {
      this.set(clientCount());
    },
  });
}

/** The text exposition of every metric in the registry, as `GET /metrics` answers it. */
export async function metricsResponse(registry: Registry): Promise<Response> {
  const body = await registry.metrics();
  return new Response(body, { status: 200, headers: { 'Content-Type': registry.contentType } });
}
