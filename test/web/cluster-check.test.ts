import { HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import type { IrcEvent } from '../../src/shared/irc-events.ts';
import { ConnectionHealthCheckJob } from '../../src/web/health/connection-health-check-job.ts';
import { applyIrcEvent } from '../../src/web/irc-events/irc-event-applier.ts';
import { IrcCluster } from '../../src/web/irc-service/irc-cluster.ts';
import { ConnectionStates } from '../../src/web/servers/connection-states.ts';
import { WantedConnections } from '../../src/web/servers/wanted-connections.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { insertServer, recordingPublisher, serverPicture, TOKEN } from './fixtures.ts';

const NODES = { a: 'http://node-a.test', b: 'http://node-b.test', c: 'http://node-c.test' } as const;
type NodeName = keyof typeof NODES;

function disconnected(serverId: number): IrcEvent {
  return { type: 'disconnected', payload: { serverId, reason: 'Closing Link' } };
}

describe('a check of a cluster of IRC service nodes', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let closeDatabase: () => Promise<void>;
  /** What each node was asked to connect or close: `a PUT 3`. */
  let requests: string[];

  beforeEach(async () => {
    ({ db, orm, close: closeDatabase } = await createTestOrm());
    requests = [];
    for (const [name, url] of Object.entries(NODES)) {
      mswServer.use(
        http.put(`${url}/internal/irc/connections/:id`, ({ params }) => {
          requests.push(`${name} PUT ${params.id}`);
          return HttpResponse.json({ serverId: Number(params.id), outcome: 'started' }, { status: 202 });
        }),
        http.delete(`${url}/internal/irc/connections/:id`, ({ params }) => {
          requests.push(`${name} DELETE ${params.id}`);
          return HttpResponse.json({ serverId: Number(params.id) }, { status: 202 });
        }),
      );
    }
  });
  afterEach(() => closeDatabase());

  function answers(status: Partial<Record<NodeName, number[] | 'down' | { as: string; connections: number[] }>>) {
    for (const [name, answer] of Object.entries(status) as [NodeName, (typeof status)[NodeName]][]) {
      mswServer.use(
        http.get(`${NODES[name]}/internal/irc/status`, () => {
          if (answer === 'down') return HttpResponse.error();
          if (Array.isArray(answer)) return HttpResponse.json({ node: name, connections: answer });
          return HttpResponse.json({ node: answer?.as, connections: answer?.connections ?? [] });
        }),
      );
    }
  }

  function assemble() {
    const cluster = IrcCluster.fromConfig(
      Object.entries(NODES).map(([name, url]) => ({ name, url })),
      { token: TOKEN, timeoutMs: 2_000 },
    );
    const events = recordingPublisher();
    const wanted = new WantedConnections({ orm, cluster, events, staggerMs: 0 });
    const job = new ConnectionHealthCheckJob({
      orm,
      cluster,
      events,
      wanted,
      onNodeChange: (node) => events.publish('node-status', node),
    });
    return { job, wanted, events, cluster };
  }

  async function placedServer(node: string | null, options: { wanted?: boolean; connected?: boolean } = {}) {
    const serverId = await insertServer(db, {
      connectedAt: options.connected === false ? null : "now() - interval '1 hour'",
      channels: [{ name: '#chan', users: ['alice'] }],
    });
    await db.query('update servers set irc_node = $2, autoconnect = $3 where id = $1', [
      serverId,
      node,
      options.wanted ?? true,
    ]);
    return serverId;
  }

  async function placement(serverId: number): Promise<string | null> {
    const [row] = await db.query<{ irc_node: string | null }>('select irc_node from servers where id = $1', [serverId]);
    return row!.irc_node;
  }

  it('disconnects only the servers of a node that is down, then places its wanted ones on the others and connects them there', async () => {
    const onA = await placedServer('a');
    const onB = await placedServer('b');
    const onC = await placedServer('c');
    const untouched = await serverPicture(db, onA);
    answers({ a: [onA], b: 'down', c: [onC] });
    const { job, wanted, cluster, events } = assemble();

    const report = await job.perform();
    await wanted.settled();

    expect(report).toMatchObject({ outcome: 'unavailable', disconnected: [onB], restoring: [onB] });
    expect(await serverPicture(db, onB)).toMatchObject({ connected: false, joinedChannels: 0, channelUsers: 0 });
    expect(await serverPicture(db, onA)).toEqual(untouched);
    expect((await serverPicture(db, onC)).connected).toBe(true);
    const newNode = await placement(onB);
    expect(['a', 'c']).toContain(newNode);
    expect(requests).toEqual([`${newNode} PUT ${onB}`]);
    // browsers hear that it went down on b, then where it went
    const statuses = events.events.filter((event) => event.type === 'server-status').map((event) => event.payload);
    expect(statuses).toEqual([
      { serverId: onB, connected: false, connectedAt: null, node: 'b' },
      { serverId: onB, connected: false, connectedAt: null, node: newNode },
    ]);
    expect(cluster.nodes.map((node) => node.view().state)).toEqual(['healthy', 'unavailable', 'healthy']);
    const nodeEvents = events.events.filter((event) => event.type === 'node-status').map((event) => event.payload);
    // each node is checked on its own: their events come in the order their answers do
    expect(nodeEvents).toHaveLength(3);
    expect(nodeEvents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'a', url: NODES.a, state: 'healthy', connections: 1 }),
        expect.objectContaining({ name: 'b', url: NODES.b, state: 'unavailable', connections: 0 }),
        expect.objectContaining({ name: 'c', url: NODES.c, state: 'healthy', connections: 1 }),
      ]),
    );

    // a second check that finds the same tells browsers nothing new about the nodes
    await job.perform();
    expect(events.events.filter((event) => event.type === 'node-status')).toHaveLength(3);
  });

  it("lets a node's answer speak only for the servers placed on it", async () => {
    const onA = await placedServer('a');
    const onB = await placedServer('b');
    // b holds no connection a should have, and a lists nothing of b's
    answers({ a: [], b: [onB], c: [] });
    const { job, wanted } = assemble();

    const report = await job.perform();
    await wanted.settled();

    expect(report).toMatchObject({ outcome: 'answered', disconnected: [onA], kept: [onB] });
    expect(requests).toEqual([`a PUT ${onA}`]);
  });

  it('leaves the servers of a node that answers with an error alone: it may still hold them', async () => {
    const onB = await placedServer('b');
    answers({ a: [], c: [] });
    mswServer.use(http.get(`${NODES.b}/internal/irc/status`, () => new HttpResponse('busy', { status: 503 })));
    const { job, wanted } = assemble();

    const report = await job.perform();
    await wanted.settled();

    expect(report).toMatchObject({ outcome: 'unknown', disconnected: [], kept: [onB], restoring: [] });
    expect(requests).toEqual([]);
  });

  it('adopts a live server that was placed nowhere onto the node that holds it', async () => {
    const unplaced = await placedServer(null, { connected: false });
    answers({ a: [], b: [], c: [unplaced] });
    const { job, events } = assemble();

    const report = await job.perform();

    expect(report.markedConnected).toEqual([unplaced]);
    expect(await placement(unplaced)).toBe('c');
    expect(events.events).toContainEqual(
      expect.objectContaining({ type: 'server-status', payload: expect.objectContaining({ serverId: unplaced }) }),
    );
  });

  it('does not trust a node that answers under another name: its servers stay as they are', async () => {
    const onB = await placedServer('b');
    const before = await serverPicture(db, onB);
    answers({ a: [], b: { as: 'x', connections: [] }, c: [] });
    const { job, wanted } = assemble();

    const report = await job.perform();
    await wanted.settled();

    expect(report.outcome).toBe('unknown');
    expect(report.error?.message).toContain('answered as node "x", not "b"');
    expect(await serverPicture(db, onB)).toEqual(before);
    expect(requests).toEqual([]);
  });

  it('disconnects a server placed on a node no longer configured, and places it again', async () => {
    const onGone = await placedServer('gone');
    answers({ a: [], b: [], c: [] });
    const { job, wanted } = assemble();

    const report = await job.perform();
    await wanted.settled();

    expect(report.disconnected).toEqual([onGone]);
    const newNode = await placement(onGone);
    expect(['a', 'b', 'c']).toContain(newNode);
    expect(requests).toEqual([`${newNode} PUT ${onGone}`]);
  });

  it('fences: a node holding a connection placed on another node closes it, and the placed node keeps its own', async () => {
    const onA = await placedServer('a');
    answers({ a: [onA], b: [], c: [onA] });
    const { job, wanted } = assemble();

    const report = await job.perform();
    await wanted.settled();

    expect(report).toMatchObject({ disconnected: [], kept: [onA] });
    expect(requests).toEqual([`c DELETE ${onA}`]);
    expect(await placement(onA)).toBe('a');
  });

  it('fences many at once a batch at a time: a node back holding 150 connections placed elsewhere gets 64 closes at most', async () => {
    const rows = await db.query<{ id: number }>(
      `insert into servers (name, host, port, nickname, autoconnect, irc_node, connected_at)
       select 's' || n, 'irc.example', 6667, 'me', true, 'a', now() - interval '1 hour'
       from generate_series(1, 150) as n returning id`,
    );
    const ids = rows.map((row) => row.id);
    answers({ a: ids, b: [], c: ids });
    let open = 0;
    let mostOpen = 0;
    mswServer.use(
      http.delete(`${NODES.c}/internal/irc/connections/:id`, async ({ params }) => {
        requests.push(`c DELETE ${params.id}`);
        open += 1;
        mostOpen = Math.max(mostOpen, open);
        // answered on the next turn: the closes sent together are all open until then
        await new Promise<void>((resolve) => setImmediate(resolve));
        open -= 1;
        return HttpResponse.json({ serverId: Number(params.id) }, { status: 202 });
      }),
    );
    const { job, wanted } = assemble();

    await job.perform();
    await wanted.settled();

    expect([...requests].sort()).toEqual(ids.map((id) => `c DELETE ${id}`).sort());
    expect(mostOpen).toBeGreaterThan(1);
    expect(mostOpen).toBeLessThanOrEqual(64);
  });

  it("ignores a node's events for a server placed on another node", async () => {
    const onA = await placedServer('a');
    const before = await serverPicture(db, onA);

    const fromC = await applyIrcEvent(orm.em.fork(), disconnected(onA), undefined, 'c');

    expect(fromC).toEqual([]);
    expect(await serverPicture(db, onA)).toEqual(before);
    await applyIrcEvent(orm.em.fork(), disconnected(onA), undefined, 'a');
    expect(await serverPicture(db, onA)).toMatchObject({ connected: false, joinedChannels: 0, channelUsers: 0 });

    const connected: IrcEvent = { type: 'connected', payload: { serverId: onA, nickname: 'me' } };
    expect(await applyIrcEvent(orm.em.fork(), connected, undefined, 'c')).toEqual([]);
    expect(await serverPicture(db, onA)).toMatchObject({ connected: false });
    expect(await applyIrcEvent(orm.em.fork(), connected, undefined, 'a')).toMatchObject([
      { type: 'server-status', payload: { serverId: onA, connected: true, node: 'a' } },
    ]);
    expect(await serverPicture(db, onA)).toMatchObject({ connected: true });
  });

  it("ignores a node's connection states for a server placed on another node (the old node of a moved server)", async () => {
    const onA = await placedServer('a');
    const connections = new ConnectionStates();
    const state = (nickname: string, value: string): IrcEvent => ({
      type: 'connection-state',
      payload: {
        serverId: onA,
        state: value,
        since: new Date().toISOString(),
        nickname,
        attempt: 0,
        nextAttemptAt: null,
        lastError: null,
      },
    });
    await applyIrcEvent(orm.em.fork(), state('me', 'socket.registered'), connections, 'a');

    expect(await applyIrcEvent(orm.em.fork(), state('me', 'stopped'), connections, 'c')).toEqual([]);
    expect(connections.get(onA)).toMatchObject({ state: 'socket.registered', nickname: 'me' });
  });

  it('closes a server the operator disconnected on the node it is placed on, and places it nowhere', async () => {
    const onC = await placedServer('c', { wanted: false });
    answers({ a: [], b: [], c: [onC] });
    const { job, wanted } = assemble();

    const report = await job.perform();
    await wanted.settled();

    expect(report.closing).toEqual([onC]);
    expect(requests).toEqual([`c DELETE ${onC}`]);
    expect(await placement(onC)).toBeNull();
  });

  describe('the check of one node (as its supervisor runs it)', () => {
    it("speaks only for that node's servers: another node's stale, parted or pending servers stay as they are", async () => {
      const staleOnA = await placedServer('a');
      const onB = await placedServer('b');
      const wantedOffB = await placedServer('b', { connected: false });
      await db.query('update channels set wanted = false where server_id = $1', [onB]);
      await db.query("update servers set pending_since = now(), pending_reason = 'b was busy' where id = $1", [onB]);
      const bBefore = await serverPicture(db, onB);
      answers({ a: [] });
      const { job, wanted } = assemble();

      const report = await job.perform({ node: 'a' });
      await wanted.settled();

      expect(report).toMatchObject({ outcome: 'answered', disconnected: [staleOnA], restoring: [staleOnA] });
      expect(requests).toEqual([`a PUT ${staleOnA}`]);
      // b's connection is b's to tell: its parted channel is not deleted, its pending wish not cleared, its
      // wanted server not restored from a's list
      expect(await serverPicture(db, onB)).toEqual(bBefore);
      const [row] = await db.query<{ channels: number; pending: string | null }>(
        'select (select count(*)::int from channels where server_id = $1) as channels, pending_reason as pending from servers where id = $1',
        [onB],
      );
      expect(row).toEqual({ channels: 1, pending: 'b was busy' });
      expect(await placement(wantedOffB)).toBe('b');
    });

    it('of a dead node disconnects only its servers and places its wanted ones on the others', async () => {
      const onA = await placedServer('a');
      const onB = await placedServer('b');
      const aBefore = await serverPicture(db, onA);
      answers({ b: 'down' });
      const { job, wanted } = assemble();

      const report = await job.perform({ node: 'b' });
      await wanted.settled();

      expect(report).toMatchObject({ outcome: 'unavailable', disconnected: [onB], restoring: [onB] });
      expect(await serverPicture(db, onA)).toEqual(aBefore);
      const newNode = await placement(onB);
      expect(['a', 'c']).toContain(newNode);
      expect(requests).toEqual([`${newNode} PUT ${onB}`]);
    });

    it('lets concurrent checks of every node restore a server placed nowhere once', async () => {
      const unplaced = await placedServer(null, { connected: false });
      answers({ a: [], b: [], c: [] });
      const { job, wanted } = assemble();

      await Promise.all(['a', 'b', 'c'].map((node) => job.perform({ node })));
      await wanted.settled();

      const placedOn = await placement(unplaced);
      expect(requests).toEqual([`${placedOn} PUT ${unplaced}`]);
    });

    it('says an unplaced server marked connected is live nowhere only once every node has had a definite check', async () => {
      const unplaced = await placedServer(null);
      answers({ a: [], b: [], c: [] });
      const { job } = assemble();

      const afterA = await job.perform({ node: 'a' });
      const afterB = await job.perform({ node: 'b' });
      const afterC = await job.perform({ node: 'c' });

      expect([afterA.disconnected, afterB.disconnected]).toEqual([[], []]);
      expect(afterC.disconnected).toEqual([unplaced]);
    });
  });
});
