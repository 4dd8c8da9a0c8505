/** The health check API routes. */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { HealthSupervisorNotRunning, type HealthSupervisorView } from './health-supervisor.ts';

/** `GET /api/health-check`: the supervisor's state, last report, last checks (`recent`) and each node's supervisor (`nodes`); `POST`: check now and answer the report. */
export function healthCheckRoutes(supervisor: HealthSupervisorView, events: { readonly position: string }): Hono {
  const routes = new Hono();
  // eventId: the id of the newest browser event at the same instant, so a page can order this with events
  routes.get('/api/health-check', (c) =>
    c.json({
      state: supervisor.state,
      lastReport: supervisor.lastReport,
      recent: supervisor.recent,
      nodes: supervisor.nodes,
      eventId: events.position,
    }),
  );
  routes.post('/api/health-check', async (c) => {
    try {
      return c.json(await supervisor.checkNow());
    } catch (error) {
      if (error instanceof HealthSupervisorNotRunning) {
        throw new HTTPException(503, { message: `${error.message} (HEALTH_CHECK_ENABLED=false?)`, cause: error });
      }
      throw error;
    }
  });
  return routes;
}
