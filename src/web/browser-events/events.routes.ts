/** The browsers' event stream route. */
import { Hono } from 'hono';
import type { EventStream } from '../../shared/sse/event-stream.ts';
import type { WebEventMap } from '../../shared/web-events.ts';

/** `GET /events`: the browsers' SSE stream; a reconnecting browser's `Last-Event-ID` replays what it missed. */
export function eventsRoutes(events: EventStream<WebEventMap>): Hono {
  const routes = new Hono();
  // c.env: under @hono/node-server the frames go straight to Node's response (one write per client)
  routes.get('/events', (c) => events.response(c.req.header('last-event-id'), c.env));
  return routes;
}
