/** `GET /metrics`: the web side's Prometheus exposition (behind WEB_PASSWORD like every route but /healthz). */
import { Hono } from 'hono';
import { metricsResponse } from '../../shared/prometheus.ts';
import type { WebMetrics } from './web-metrics.ts';

export function metricsRoutes(metrics: Pick<WebMetrics, 'registry'>): Hono {
  const routes = new Hono();
  routes.get('/metrics', () => metricsResponse(metrics.registry));
  return routes;
}
