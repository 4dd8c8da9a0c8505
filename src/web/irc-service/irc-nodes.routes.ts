/**
 * `/api/irc-nodes`: the IRC service nodes of the cluster, each with its state, connection count and last check;
 * `POST …/:name/drain` and `…/undrain`.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { IrcNodeView } from '../../shared/web-events.ts';
import { LastNodeStanding } from './errors/last-node-standing.ts';
import { UnknownNode } from './errors/unknown-node.ts';

/** What the routes ask of the drain (NodeDrain). */
export interface NodeDrainCommands {
  drain(name: string): Promise<void>;
  undrain(name: string): Promise<void>;
}

export interface IrcNodesRoutesDeps {
  /** The nodes as this instance last found them, with the drain as the database has it. */
  nodes: () => readonly IrcNodeView[] | Promise<readonly IrcNodeView[]>;
  /** Without it (tests that do not drain) drain and undrain answer `404` for every name. */
  drain?: NodeDrainCommands;
  /** This instance's `/events` stream, whose position the list carries as `eventId`. */
  events?: { readonly position: string };
}

export function ircNodesRoutes({ nodes, drain, events }: IrcNodesRoutesDeps): Hono {
  const routes = new Hono();
  // eventId: the id of the newest browser event at the same instant, so a page can order this with `node-status`
  routes.get('/api/irc-nodes', async (c) => {
    const eventId = events?.position;
    return c.json({ nodes: await nodes(), ...(eventId === undefined ? {} : { eventId }) });
  });

  for (const action of ['drain', 'undrain'] as const) {
    routes.post(`/api/irc-nodes/:name/${action}`, async (c) => {
      const name = c.req.param('name');
      try {
        if (!drain) throw new UnknownNode(`no IRC service node named ${name}`);
        await drain[action](name);
      } catch (error) {
        if (error instanceof UnknownNode) throw refusal(404, error.message);
        if (error instanceof LastNodeStanding) throw refusal(409, error.message);
        throw error;
      }
      const node = (await nodes()).find((each) => each.name === name);
      return c.json({ node }, 202);
    });
  }
  return routes;
}

function refusal(status: 404 | 409, message: string): HTTPException {
  return new HTTPException(status, { res: Response.json({ error: { message } }, { status }) });
}
