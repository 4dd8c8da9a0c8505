import { Hono } from 'hono';
import { HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import type { IrcNodeView } from '../../src/shared/web-events.ts';
import { NodeDrain } from '../../src/web/health/node-drain.ts';
import { ircNodesRoutes } from '../../src/web/irc-service/irc-nodes.routes.ts';
import { placeOnNode } from '../../src/web/irc-service/rendezvous-placement.ts';
import { serversRoutes } from '../../src/web/servers/servers.routes.ts';
import { WantedConnections } from '../../src/web/servers/wanted-connections.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { answeredCluster, recordingPublisher } from './fixtures.ts';

const NODES = { a: 'http://node-a.test', b: 'http://node-b.test', c: 'http://node-c.test' } as const;

describe('IRC nodes API: drain and undrain', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let closeDatabase: () => Promise<void>;

  beforeEach(async () => {
    ({ db, orm, close: closeDatabase } = await createTestOrm());
    for (const url of Object.values(NODES)) {
      mswServer.use(
        http.put(`${url}/internal/irc/connections/:id`, () => HttpResponse.json({}, { status: 202 })),
        http.post(`${url}/internal/irc/resync`, () => HttpResponse.json({ serverIds: [] }, { status: 202 })),
      );
    }
  });
  afterEach(() => closeDatabase());

  /** One web instance: its cluster, its drain, the routes; instances on the same database share the drain. */
  function instance() {
    const cluster = answeredCluster(NODES);
    const events = recordingPublisher();
    const wanted = new WantedConnections({ orm, cluster, events, staggerMs: 0 });
    const drain = new NodeDrain({ orm, cluster, wanted, events });
    const nodes = async () => {
      await drain.refresh();
      return cluster.nodes.map((node) => node.view());
    };
    const app = new Hono()
      .route('/', ircNodesRoutes({ nodes, drain }))
      .route(
        '/api/servers',
        serversRoutes({ orm, ircService: cluster.nodes[0]!.client, events, reconciler: wanted, cluster }),
      );
    return { app, cluster, events, wanted };
  }

  const post = (app: Hono, path: string) => app.request(path, { method: 'POST' });
  async function states(app: Hono): Promise<Record<string, string>> {
    const { nodes } = (await (await app.request('/api/irc-nodes')).json()) as { nodes: IrcNodeView[] };
    return Object.fromEntries(nodes.map((node) => [node.name, node.state]));
  }

  it('drains a node (202): listed as draining, told on node-status, and seen by another web instance', async () => {
    const web = instance();
    const answer = await post(web.app, '/api/irc-nodes/b/drain');
    expect(answer.status).toBe(202);
    expect(await answer.json()).toMatchObject({ node: { name: 'b', state: 'draining' } });
    expect((await states(web.app)).b).toBe('draining');
    expect(web.events.events).toContainEqual({
      type: 'node-status',
      payload: expect.objectContaining({ name: 'b', state: 'draining' }),
    });
    // kept in the database: another instance (or this one after a restart) sees it
    expect((await states(instance().app)).b).toBe('draining');
    // a second drain changes nothing
    expect((await post(web.app, '/api/irc-nodes/b/drain')).status).toBe(202);
  });

  it('undrains a node (202): it is no longer listed as draining', async () => {
    const web = instance();
    await post(web.app, '/api/irc-nodes/a/drain');
    expect((await post(web.app, '/api/irc-nodes/a/undrain')).status).toBe(202);
    expect((await states(web.app)).a).not.toBe('draining');
    expect((await states(instance().app)).a).not.toBe('draining');
  });

  it('lists the nodes with the position of the browser event stream (eventId), as the other snapshots do', async () => {
    const { cluster } = instance();
    const app = ircNodesRoutes({
      nodes: () => cluster.nodes.map((node) => node.view()),
      events: { position: 'boot-42' },
    });
    const listed = (await (await app.request('/api/irc-nodes')).json()) as { nodes: IrcNodeView[]; eventId: string };
    expect(listed.eventId).toBe('boot-42');
    expect(listed.nodes.map((node) => node.name)).toEqual(['a', 'b', 'c']);
  });

  it('answers 404 for a node that is not configured', async () => {
    const { app } = instance();
    for (const action of ['drain', 'undrain']) {
      const answer = await post(app, `/api/irc-nodes/nowhere/${action}`);
      expect(answer.status).toBe(404);
      expect(await answer.json()).toEqual({ error: { message: 'no IRC service node named nowhere' } });
    }
    expect(await db.query('select * from irc_nodes')).toEqual([]);
  });

  it('refuses (409) to drain the last healthy node that is not draining, saying why', async () => {
    const web = instance();
    expect((await post(web.app, '/api/irc-nodes/a/drain')).status).toBe(202);
    const c = web.cluster.nodes[2]!;
    const refusal = async () => {
      const refused = await post(web.app, '/api/irc-nodes/b/drain');
      expect(refused.status).toBe(409);
      return ((await refused.json()) as { error: { message: string } }).error.message;
    };
    // c is down: b is the last node its servers could go to
    c.recordCheck('unavailable', 'unavailable', null, new Date().toISOString());
    expect(await refusal()).toBe(
      'node b is the last healthy IRC service node that is not draining (c unavailable): its servers would have nowhere to go',
    );
    // c is back but refuses the token: it could take no server either
    c.recordCheck('answered', 'healthy', 0, new Date().toISOString());
    c.recordCheck('unauthorized', undefined, null, new Date().toISOString());
    expect(await refusal()).toMatch(/^node b is the last healthy IRC service node that is not draining \(c degraded\)/);
    expect((await states(web.app)).b).not.toBe('draining');
    expect(await db.query('select name from irc_nodes where draining_since is not null')).toEqual([{ name: 'a' }]);
  });

  it('places a server on its node in the wish transaction of Connect, never on a draining node', async () => {
    const web = instance();
    await post(web.app, '/api/irc-nodes/a/drain');
    const ids: number[] = [];
    // until one of them would have gone to a by rendezvous over all three
    while (!ids.some((id) => placeOnNode(id, Object.keys(NODES)) === 'a')) {
      const created = await web.app.request('/api/servers', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'n', host: 'irc.example', port: 6667, nickname: 'me' }),
      });
      const { id } = (await created.json()) as { id: number };
      expect((await post(web.app, `/api/servers/${id}/connect`)).status).toBe(202);
      // written with the wish: there as soon as the answer is
      const [row] = await db.query<{ irc_node: string | null }>('select irc_node from servers where id = $1', [id]);
      expect(row?.irc_node).toBe(placeOnNode(id, ['b', 'c']));
      ids.push(id);
    }
    await web.wanted.settled();
    // the dashboard hears where it went
    expect(web.events.events).toContainEqual({
      type: 'server-status',
      payload: expect.objectContaining({ serverId: ids[0], node: placeOnNode(ids[0]!, ['b', 'c']) }),
    });
  });
});
