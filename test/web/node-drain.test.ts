import { HttpResponse, http } from 'msw';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { ConnectionHealthCheckJob } from '../../src/web/health/connection-health-check-job.ts';
import { NodeDrain } from '../../src/web/health/node-drain.ts';
import { RECONCILER_LOCK_SQL_KEY } from '../../src/web/health/reconciler-lock.ts';
import { placeOnNode } from '../../src/web/irc-service/rendezvous-placement.ts';
import { WantedConnections } from '../../src/web/servers/wanted-connections.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { answeredCluster, insertServer, recordingPublisher, serverPicture } from './fixtures.ts';

const NODES = { a: 'http://node-a.test', b: 'http://node-b.test', c: 'http://node-c.test' } as const;
type NodeName = keyof typeof NODES;

/**
 * The drain's moves against msw stand-ins of three nodes and a real database: make-before-break (the server is
 * switched only once its new connection registered and joined, and never fenced meanwhile), and a move that
 * does not complete in time given up with the server left where it was.
 */
describe('drain of an IRC service node', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let closeDatabase: () => Promise<void>;
  /** What each node was asked: `b PUT 3`. */
  let requests: string[];
  /** Each node's status answer. */
  let live: Record<NodeName, number[]>;
  /** The realname of each PUT, in `requests` order (undefined for other requests). */
  let realnames: (string | undefined)[];

  beforeEach(async () => {
    ({ db, orm, close: closeDatabase } = await createTestOrm());
    requests = [];
    realnames = [];
    live = { a: [], b: [], c: [] };
    for (const [name, url] of Object.entries(NODES) as [NodeName, string][]) {
      mswServer.use(
        http.get(`${url}/internal/irc/status`, () => HttpResponse.json({ node: name, connections: live[name] })),
        http.put(`${url}/internal/irc/connections/:id`, async ({ params, request }) => {
          requests.push(`${name} PUT ${params.id}`);
          realnames[requests.length - 1] = ((await request.json()) as { realname?: string }).realname;
          return HttpResponse.json({}, { status: 202 });
        }),
        http.delete(`${url}/internal/irc/connections/:id`, ({ params }) => {
          requests.push(`${name} DELETE ${params.id}`);
          return HttpResponse.json({}, { status: 202 });
        }),
        http.post(`${url}/internal/irc/resync`, () => HttpResponse.json({ serverIds: [] }, { status: 202 })),
      );
    }
  });
  afterEach(() => closeDatabase());

  function assemble(moveTimeoutMs = 10_000, requestCheck?: () => void) {
    const cluster = answeredCluster(NODES);
    const events = recordingPublisher();
    const wanted = new WantedConnections({ orm, cluster, events, staggerMs: 0 });
    const drain = new NodeDrain({ orm, cluster, wanted, events, moveTimeoutMs, requestCheck });
    const job = new ConnectionHealthCheckJob({ orm, cluster, events, wanted, drain });
    return { job, wanted, drain, events, cluster };
  }

  /** A wanted server registered on `a`, in `#chan` with alice. */
  async function liveOnA(): Promise<number> {
    const serverId = await insertServer(db, { channels: [{ name: '#chan', users: ['alice', 'me'] }] });
    await db.query(`update servers set irc_node = 'a', autoconnect = true where id = $1`, [serverId]);
    live.a.push(serverId);
    return serverId;
  }

  /** A wanted server placed on `a` and not live there (`set`: more columns), after the drain of `a` ran. */
  async function drainNotLive(set: string) {
    const serverId = await insertServer(db, { connectedAt: null });
    await db.query(`update servers set irc_node = 'a', autoconnect = true${set} where id = $1`, [serverId]);
    const target = placeOnNode(serverId, ['b', 'c']) as NodeName;
    const { job, wanted, drain } = assemble();
    await drain.drain('a');
    await job.perform();
    await drain.settled();
    await wanted.settled();
    return { serverId, target };
  }

  /** A server live on `a` whose move is under way: its target was asked to connect. */
  async function moveUnderWay(moveTimeoutMs?: number) {
    const serverId = await liveOnA();
    const target = placeOnNode(serverId, ['b', 'c']) as NodeName;
    const assembled = assemble(moveTimeoutMs);
    await assembled.drain.drain('a');
    await assembled.job.perform();
    await vi.waitFor(() => expect(requests).toEqual([`${target} PUT ${serverId}`]));
    /** The target's events: registered under a fallback, and in `#chan`. */
    const ready = () => {
      assembled.drain.observe(target, { type: 'connected', payload: { serverId, nickname: 'me_' } });
      assembled.drain.observe(target, { type: 'joined', payload: { serverId, channel: '#chan' } });
    };
    return { ...assembled, serverId, target, ready };
  }

  async function row(serverId: number) {
    const [found] = await db.query<{ irc_node: string | null; moving_to: string | null }>(
      'select irc_node, moving_to from servers where id = $1',
      [serverId],
    );
    return found;
  }

  it('connects the new node first, switches once it registered and joined, then closes the old connection', async () => {
    const serverId = await liveOnA();
    const target = placeOnNode(serverId, ['b', 'c']) as NodeName;
    const before = await serverPicture(db, serverId);
    const { job, wanted, drain, events } = assemble();
    await drain.drain('a');

    await job.perform();
    await vi.waitFor(() => expect(requests).toEqual([`${target} PUT ${serverId}`]));
    expect(await row(serverId)).toEqual({ irc_node: 'a', moving_to: target });
    const connectedAt = new Date(before.connectedAt!).toISOString();
    // the dashboard shows where it is going
    expect(events.events).toContainEqual({
      type: 'server-status',
      payload: { serverId, connected: true, connectedAt, movingTo: target },
    });

    // the new connection registers under a fallback: a check now sees it on both nodes, and fences neither
    live[target].push(serverId);
    const report = await job.perform();
    await wanted.settled();
    expect(report.disconnected).toEqual([]);
    expect(requests).toEqual([`${target} PUT ${serverId}`]);
    expect(await row(serverId)).toEqual({ irc_node: 'a', moving_to: target });

    // registered, not yet in its channel: still on a
    drain.observe(target, { type: 'connected', payload: { serverId, nickname: 'me_' } });
    expect(await row(serverId)).toEqual({ irc_node: 'a', moving_to: target });
    drain.observe(target, { type: 'joined', payload: { serverId, channel: '#Chan' } });
    await drain.settled();

    expect(await row(serverId)).toEqual({ irc_node: target, moving_to: null });
    expect(requests).toEqual([`${target} PUT ${serverId}`, `a DELETE ${serverId}`]);
    // never shown disconnected, nor out of its channel
    expect(await serverPicture(db, serverId)).toEqual(before);
    expect(events.events).toContainEqual({
      type: 'server-status',
      payload: { serverId, connected: true, connectedAt, node: target, movingTo: null },
    });
    expect(events.events.filter((event) => event.type === 'channel')).toEqual([]);
  });

  it('gives a move up when the new connection drops after it joined but before the switch', async () => {
    const { drain, serverId, target, ready } = await moveUnderWay();
    const before = await serverPicture(db, serverId);

    ready();
    // the network drops it right away, before the switch could commit
    drain.observe(target, { type: 'disconnected', payload: { serverId, reason: 'ping timeout' } });
    // and registers again at once, not in its channel yet: not the connection that was ready
    drain.observe(target, { type: 'connected', payload: { serverId, nickname: 'me_' } });
    await drain.settled();

    expect(await row(serverId)).toEqual({ irc_node: 'a', moving_to: null });
    expect(requests).toEqual([`${target} PUT ${serverId}`, `${target} DELETE ${serverId}`]);
    expect(await serverPicture(db, serverId)).toEqual(before);
  });

  it('brings a settings edit made during the move to the new node once it switched', async () => {
    const { wanted, drain, serverId, target, ready } = await moveUnderWay();

    // the operator's PATCH while the new connection registers: passed on to a, where the server is still placed
    await db.query(`update servers set realname = 'Edited' where id = $1`, [serverId]);
    await wanted.converge(serverId, { server: 'restore' });
    expect(requests.at(-1)).toBe(`a PUT ${serverId}`);
    ready();
    await drain.settled();
    await wanted.settled();

    expect(await row(serverId)).toEqual({ irc_node: target, moving_to: null });
    // the new node got the edit too, after the switch
    const last = requests.lastIndexOf(`${target} PUT ${serverId}`);
    expect(last).toBeGreaterThan(requests.indexOf(`a PUT ${serverId}`));
    expect(realnames[last]).toBe('Edited');
  });

  it('gives a move up within its time though a check holds the reconciler lock at its switch', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    // another instance's check holds the reconciler lock
    const check = new pg.Client({ connectionString: db.url });
    await check.connect();
    await check.query(`select pg_advisory_lock(${RECONCILER_LOCK_SQL_KEY})`);
    try {
      const { drain, serverId, target, ready } = await moveUnderWay(60_000);

      // ready late in its minute: the switch waits for the lock
      vi.setSystemTime(Date.now() + 50_000);
      ready();
      // the minute is up: given up now, not a minute after it was ready
      vi.setSystemTime(Date.now() + 15_000);
      await vi.waitFor(() => expect(requests).toContain(`${target} DELETE ${serverId}`));
      await drain.settled();

      expect(await row(serverId)).toEqual({ irc_node: 'a', moving_to: null });
      const [problem] = await db.query<{ drain_problem: string }>(
        `select drain_problem from irc_nodes where name = 'a'`,
      );
      expect(problem?.drain_problem).toBe(
        `server ${serverId} stays on a: a check held the reconciler lock until the move's time (60000 ms) was up`,
      );
    } finally {
      vi.useRealTimers();
      await check.end();
    }
  });

  it('gives a move up when the new node does not register in time: the server stays, the new connection goes', async () => {
    const serverId = await liveOnA();
    const target = placeOnNode(serverId, ['b', 'c']) as NodeName;
    const before = await serverPicture(db, serverId);
    const { job, drain, events } = assemble(150);
    await drain.drain('a');

    await job.perform();
    await vi.waitFor(() => expect(requests).toContain(`${target} DELETE ${serverId}`));
    await drain.settled();

    expect(requests).toEqual([`${target} PUT ${serverId}`, `${target} DELETE ${serverId}`]);
    expect(await row(serverId)).toEqual({ irc_node: 'a', moving_to: null });
    expect(await serverPicture(db, serverId)).toEqual(before);
    // the dashboard no longer shows it moving
    expect(events.events.filter((event) => event.type === 'server-status').map((event) => event.payload)).toEqual([
      { serverId, connected: true, connectedAt: new Date(before.connectedAt!).toISOString(), movingTo: target },
      { serverId, connected: true, connectedAt: new Date(before.connectedAt!).toISOString(), movingTo: null },
    ]);
    // the operator sees why, on every web instance (GET /api/irc-nodes, node-status)
    const problem = `server ${serverId} stays on a: the new node did not register and join within 150 ms`;
    expect(events.events).toContainEqual({
      type: 'node-status',
      payload: expect.objectContaining({ name: 'a', state: 'draining', drainProblem: problem }),
    });
    const elsewhere = assemble();
    await elsewhere.drain.refresh();
    expect(elsewhere.cluster.nodes[0]!.view()).toMatchObject({ state: 'draining', drainProblem: problem });
  });

  it('gives a move up at once when reading the server fails: not left claimed, and the reason shown', async () => {
    const serverId = await liveOnA();
    const { job, drain } = assemble();
    await drain.drain('a');
    // a column only the move reads goes away: its first read fails, the check itself does not
    await db.query('alter table servers rename column realname to realname_gone');

    await job.perform();
    await drain.settled();

    expect(await row(serverId)).toEqual({ irc_node: 'a', moving_to: null });
    // the new node was never asked to connect (giving up closes whatever it might hold)
    expect(requests.filter((request) => request.includes(' PUT '))).toEqual([]);
    const [problem] = await db.query<{ drain_problem: string }>(`select drain_problem from irc_nodes where name = 'a'`);
    expect(problem?.drain_problem).toMatch(new RegExp(`^server ${serverId} stays on a: reading the server failed: `));
  });

  it('goes on with the other servers after a move is given up, and tries that one again only later', async () => {
    const stuck = await liveOnA();
    const next = await liveOnA();
    const nextTarget = placeOnNode(next, ['b', 'c']) as NodeName;
    const { job, drain } = assemble(150);
    await drain.drain('a');

    await job.perform();
    // the first one's new node never registers; the second one's does
    await vi.waitFor(() => expect(requests).toContain(`${nextTarget} PUT ${next}`));
    drain.observe(nextTarget, { type: 'connected', payload: { serverId: next, nickname: 'me_' } });
    drain.observe(nextTarget, { type: 'names', payload: { serverId: next, channel: '#chan', users: [] } });
    await drain.settled();
    expect(await row(next)).toEqual({ irc_node: nextTarget, moving_to: null });
    expect(await row(stuck)).toEqual({ irc_node: 'a', moving_to: null });

    // a check right after (the second one now lives on its new node only) does not try the first again yet
    live.a = [stuck];
    live[nextTarget].push(next);
    const asked = requests.length;
    await job.perform();
    await drain.settled();
    expect(requests.slice(asked)).toEqual([]);
  });

  it('takes over a move left behind by a web instance that died, and the browsers hear it started again', async () => {
    const serverId = await liveOnA();
    const target = placeOnNode(serverId, ['b', 'c']) as NodeName;
    const connectedAt = new Date((await serverPicture(db, serverId)).connectedAt!).toISOString();
    const { job, drain, events } = assemble(150);
    await drain.drain('a');
    // claimed long ago by an instance that is gone
    await db.query(`update servers set moving_to = $2, moving_since = now() - interval '1 hour' where id = $1`, [
      serverId,
      target,
    ]);

    await job.perform();
    await vi.waitFor(() => expect(requests).toEqual([`${target} PUT ${serverId}`]));

    const statuses = events.events.filter((event) => event.type === 'server-status').map((event) => event.payload);
    expect(statuses.slice(0, 2)).toEqual([
      { serverId, connected: true, connectedAt, movingTo: null },
      { serverId, connected: true, connectedAt, movingTo: target },
    ]);
    await drain.stop();
  });

  it('gives the move under way up when the web side stops: the server stays, the new connection goes', async () => {
    const serverId = await liveOnA();
    const target = placeOnNode(serverId, ['b', 'c']) as NodeName;
    const { job, drain } = assemble();
    await drain.drain('a');
    await job.perform();
    await vi.waitFor(() => expect(requests).toEqual([`${target} PUT ${serverId}`]));

    await drain.stop();

    expect(requests).toEqual([`${target} PUT ${serverId}`, `${target} DELETE ${serverId}`]);
    expect(await row(serverId)).toEqual({ irc_node: 'a', moving_to: null });
    // and no move starts after
    await job.perform();
    await drain.settled();
    expect(requests).toHaveLength(2);
  });

  it('never places a server on a node another web instance drained, though this one has not read it yet', async () => {
    const serverId = await insertServer(db, { connectedAt: null });
    await db.query('update servers set autoconnect = true where id = $1', [serverId]);
    const first = placeOnNode(serverId, Object.keys(NODES)) as NodeName;
    // drained elsewhere: only the database knows
    await db.query(`insert into irc_nodes (name, draining_since) values ($1, now())`, [first]);
    const { wanted, cluster } = assemble();
    expect(cluster.nodes.some((node) => node.draining)).toBe(false);

    await wanted.converge(serverId, { server: 'restore' });

    const others = Object.keys(NODES).filter((name) => name !== first);
    expect(await row(serverId)).toEqual({ irc_node: placeOnNode(serverId, others), moving_to: null });
    expect(requests).toEqual([`${placeOnNode(serverId, others)} PUT ${serverId}`]);
  });

  it('places a wanted server of the drained node that is not live on another node and connects it there', async () => {
    // a still holds its connection attempt (reconnecting): listed nowhere
    const { serverId, target } = await drainNotLive('');

    expect(await row(serverId)).toEqual({ irc_node: target, moving_to: null });
    expect(requests).toContain(`a DELETE ${serverId}`);
    expect(requests).toContain(`${target} PUT ${serverId}`);
  });

  it('re-places a server the IRC service gave up on (banned) without connecting it: only Connect retries it', async () => {
    const { serverId, target } = await drainNotLive(", failed_at = now(), failure_reason = 'banned'");

    expect(await row(serverId)).toEqual({ irc_node: target, moving_to: null });
    // its old attempt goes; no new attempt against the network that banned it
    expect(requests).toEqual([`a DELETE ${serverId}`]);
  });

  it('places a server of the drained node that the operator does not want connected nowhere, and connects nothing', async () => {
    const serverId = await insertServer(db, { connectedAt: null });
    await db.query(`update servers set irc_node = 'a', autoconnect = false where id = $1`, [serverId]);
    const { job, wanted, drain } = assemble();
    await drain.drain('a');
    await job.perform();
    await drain.settled();
    await wanted.settled();

    expect(await row(serverId)).toEqual({ irc_node: null, moving_to: null });
    expect(requests.filter((request) => request.includes('PUT'))).toEqual([]);
  });

  it('asks for a check once it has placed a server nowhere, so that the drained node is told to close it at once', async () => {
    const serverId = await insertServer(db, { connectedAt: null });
    await db.query(`update servers set irc_node = 'a', autoconnect = false where id = $1`, [serverId]);
    const requestCheck = vi.fn();
    const { drain } = assemble(10_000, requestCheck);
    await drain.drain('a');
    requestCheck.mockClear();
    drain.advance(); // as after a check
    await drain.settled();

    expect(await row(serverId)).toEqual({ irc_node: null, moving_to: null });
    expect(requestCheck).toHaveBeenCalledTimes(1);
  });

  it('goes on with the other servers when one is placed on a drained node no longer configured, and says why', async () => {
    // drained, then removed from IRC_SERVICE_URLS: its server (the lowest id; given up, so no check restores it)
    // cannot be moved from it
    const stranded = await insertServer(db, { connectedAt: null });
    await db.query(`update servers set irc_node = 'gone', autoconnect = true, failed_at = now() where id = $1`, [
      stranded,
    ]);
    await db.query(`insert into irc_nodes (name, draining_since) values ('gone', now())`);
    // the next server's move goes on
    const { drain, serverId, target, ready } = await moveUnderWay();
    ready();
    await drain.settled();

    expect(await row(serverId)).toEqual({ irc_node: target, moving_to: null });
    expect(await row(stranded)).toEqual({ irc_node: 'gone', moving_to: null });
    const [gone] = await db.query<{ drain_problem: string }>(`select drain_problem from irc_nodes where name = 'gone'`);
    expect(gone?.drain_problem).toBe(
      `server ${stranded} stays on gone: the node is no longer configured (IRC_SERVICE_URLS)`,
    );
  });

  it.each([3, 12])(
    'places %i servers of the drained node that are not live in one statement and hands each node its share in one request',
    async (count) => {
      const ids: number[] = [];
      for (let index = 0; index < count; index += 1) {
        const serverId = await insertServer(db, { connectedAt: null });
        await db.query(`update servers set irc_node = 'a', autoconnect = true where id = $1`, [serverId]);
        ids.push(serverId);
      }
      const targets = new Map(ids.map((id) => [id, placeOnNode(id, ['b', 'c']) as NodeName]));
      const { drain, wanted, events } = assemble();
      await drain.drain('a');
      const statements: string[] = [];
      const record = (query: { sql: string }) => statements.push(query.sql);
      const batches: string[] = [];
      const countBatch = ({ request }: { request: Request }) => {
        if (request.method === 'PUT' && request.url.endsWith('/internal/irc/connections')) batches.push(request.url);
      };
      const knex = orm.em.getKnex();
      knex.on('query', record);
      mswServer.events.on('request:start', countBatch);
      try {
        // the drain alone (a check of a would restore them too)
        drain.advance();
        await drain.settled();
        await wanted.settled();
      } finally {
        knex.off('query', record);
        mswServer.events.removeListener('request:start', countBatch);
      }

      for (const serverId of ids) {
        expect(await row(serverId)).toEqual({ irc_node: targets.get(serverId), moving_to: null });
        // its old attempt closed, a new one on its new node, and the dashboard shows where it went
        expect(requests).toContain(`a DELETE ${serverId}`);
        expect(requests).toContain(`${targets.get(serverId)} PUT ${serverId}`);
        expect(events.events).toContainEqual({
          type: 'server-status',
          payload: { serverId, connected: false, connectedAt: null, node: targets.get(serverId), movingTo: null },
        });
      }
      // whatever the count: the ones not wanted placed nowhere, the wanted ones placed, each in one statement
      expect(statements.filter((sql) => /set irc_node/.test(sql))).toHaveLength(2);
      // each new node that takes more than one gets them in one batch request (a lone one goes in a single PUT)
      const shares = new Map<NodeName, number>();
      for (const node of targets.values()) shares.set(node, (shares.get(node) ?? 0) + 1);
      const batched = [...shares].filter(([, share]) => share > 1).map(([node]) => NODES[node]);
      expect(batches.map((url) => new URL(url).origin).sort()).toEqual(batched.sort());
    },
  );
});
