/** `GET /api/irc-nodes`: the IRC service nodes of the cluster, each with its state, connection count and last check. */
import { Hono } from 'hono';
import type { IrcNodeView } from '../../shared/web-events.ts';

export function ircNodesRoutes(nodes: () => readonly IrcNodeView[]): Hono {
  const routes = new Hono();
  routes.get('/api/irc-nodes', (c) => c.json({ nodes: nodes() }));
  return routes;
}
