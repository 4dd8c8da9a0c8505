import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeOnNode } from '../../src/web/irc-service/rendezvous-placement.ts';
import { expectRegisteredWherePlaced, liveOn, placements } from '../support/cluster.ts';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { openSse } from '../support/sse-client.ts';
import { FAST_CLUSTER_ENV, nodeName, type System, startSettledSystem } from '../support/system.ts';
import type { WebApi } from '../support/web-api.ts';

/** Enough servers that each of three nodes surely gets some by rendezvous hashing. */
const SERVERS = 12;
const CHANNEL = '#drain';

interface NodeView {
  name: string;
  state: string;
  connections: number | null;
}

/**
 * Drain of one IRC service node of three, with ngircd, the web side and PostgreSQL as real processes: its
 * servers move to the other nodes one at a time, make-before-break, so that none of them ever shows
 * disconnected or out of its channels, and each ends under its own nickname; the node then holds nothing.
 */
describe.skipIf(lacks('ngircd'))('fault: drain of an IRC service node', () => {
  let system: System;
  let api: WebApi;
  let observer: IrcObserver;

  beforeAll(async () => {
    ({ system, api } = await startSettledSystem({ ircNodes: 3, env: FAST_CLUSTER_ENV }));
    for (let index = 0; index < SERVERS; index += 1) {
      const id = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: `drain${index}` });
      await api.join(id, CHANNEL);
      await api.connect(id);
    }
    await eventually(async () => {
      const joined = await system.db.query<{ n: number }>(
        'select count(*)::int as n from channels c join servers s on s.id = c.server_id where c.joined and s.connected_at is not null',
      );
      return joined[0]?.n === SERVERS;
    }, 30_000);
    observer = await connectObserver(system.ircd, 'drainwatch');
    await observer.join(CHANNEL);
  }, 90_000);
  afterAll(async () => {
    observer?.close();
    await system?.dispose();
  });

  async function nodes(): Promise<NodeView[]> {
    return ((await (await fetch(`${system.web.url}/api/irc-nodes`)).json()) as { nodes: NodeView[] }).nodes;
  }

  const post = (path: string) => fetch(`${system.web.url}${path}`, { method: 'POST' });

  /** The channel's members as ngircd tells them to the observer now (NAMES), without mode prefixes. */
  async function membersOf(channel: string): Promise<string[]> {
    const from = observer.lines.length;
    observer.send(`NAMES ${channel}`);
    await eventually(() => observer.lines.slice(from).some((line) => / 366 /.test(line)), 5_000);
    return observer.lines
      .slice(from)
      .filter((line) => / 353 /.test(line))
      .flatMap((line) => line.slice(line.indexOf(' :', 1) + 2).split(' '))
      .map((nick) => nick.replace(/^[@+%~&]+/, ''))
      .filter((nick) => nick.length > 0);
  }

  /**
   * Samples what an operator would see while the drain runs, on the database and on `/events`: any moment a
   * server of `ids` shows disconnected or one of its wanted channels not joined.
   */
  async function watchForCuts(ids: readonly number[]) {
    const client = new pg.Client({ connectionString: system.db.url });
    await client.connect();
    const browser = await openSse(`${system.web.url}/events`);
    const cuts: string[] = [];
    let samples = 0;
    let watching = true;
    const loop = (async () => {
      while (watching) {
        const { rows: seen } = await client.query<{ id: number; connected: boolean; not_joined: number }>(
          `select s.id, s.connected_at is not null as connected,
                  (select count(*)::int from channels c where c.server_id = s.id and c.wanted and not c.joined) as not_joined
           from servers s where s.id = any($1::int[])`,
          [ids],
        );
        samples += 1;
        for (const row of seen) {
          if (!row.connected) cuts.push(`database: server ${row.id} disconnected`);
          if (row.not_joined > 0) cuts.push(`database: server ${row.id} out of ${row.not_joined} channel(s)`);
        }
      }
    })();
    return {
      async stop() {
        watching = false;
        await loop;
        await client.end();
        browser.close();
        for (const event of browser.events) {
          const data = event.data as { serverId?: number; connected?: boolean; joined?: boolean };
          if (data.serverId === undefined || !ids.includes(data.serverId)) continue;
          if (event.type === 'server-status' && data.connected === false) cuts.push(`/events: ${JSON.stringify(data)}`);
          if (event.type === 'channel' && data.joined === false) cuts.push(`/events: ${JSON.stringify(data)}`);
        }
        return { cuts: [...new Set(cuts)], samples, events: browser.events };
      },
    };
  }

  it('moves every server of the drained node to the others without a disconnect, then the node holds nothing', async () => {
    const before = await placements(system);
    const counts = system.ircNodes.map((node) => before.filter((row) => row.irc_node === nodeName(node)).length);
    const drained = system.ircNodes[counts.indexOf(Math.max(...counts))]!;
    const others = system.ircNodes.filter((node) => node !== drained);
    const moving = before.filter((row) => row.irc_node === nodeName(drained));
    const staying = before.filter((row) => row.irc_node !== nodeName(drained));
    expect(moving.length).toBeGreaterThan(0);
    const ids = moving.map((row) => row.id);
    const watcher = await watchForCuts(ids);

    const answer = await post(`/api/irc-nodes/${nodeName(drained)}/drain`);
    expect(answer.status).toBe(202);
    expect((await nodes()).find((node) => node.name === nodeName(drained))?.state).toBe('draining');

    await eventually(
      async () => (await placements(system)).every((row) => row.irc_node !== nodeName(drained)),
      90_000,
      100,
    );
    // the node holds nothing, and says so
    await eventually(async () => (await liveOn(system, drained)).length === 0, 10_000);
    await eventually(
      async () => (await nodes()).find((node) => node.name === nodeName(drained))?.connections === 0,
      10_000,
    );
    const { cuts, samples, events } = await watcher.stop();
    expect(cuts).toEqual([]);
    expect(samples).toBeGreaterThan(10);
    expect(
      events.some(
        (event) =>
          event.type === 'node-status' &&
          (event.data as NodeView).name === nodeName(drained) &&
          (event.data as NodeView).state === 'draining',
      ),
    ).toBe(true);

    const after = await placements(system);
    for (const row of moving) {
      const now = after.find((each) => each.id === row.id);
      expect(others.map(nodeName), `server ${row.id}`).toContain(now?.irc_node);
      // observed connected all along: the same moment it first registered
      expect(now?.connected_at, `server ${row.id}`).toBe(row.connected_at);
    }
    // the servers of the other nodes were never touched
    for (const row of staying) expect(after.find((each) => each.id === row.id)).toEqual(row);
    // each server is registered on exactly one node, the one it is placed on
    await expectRegisteredWherePlaced(system, others, after);
    // ngircd's own view: every server in the channel once, under its wanted nickname (taken back from the fallback)
    const wanted = before.map((_, index) => `drain${index}`).sort();
    await eventually(
      async () => {
        const members = (await membersOf(CHANNEL)).filter((nick) => nick !== observer.nickname).sort();
        return JSON.stringify(members) === JSON.stringify(wanted);
      },
      15_000,
      200,
    );
    // and the database's: each moved server's channel lists its own wanted nickname
    await eventually(async () => {
      const seen = await system.db.query<{ listed: boolean }>(
        `select exists (select 1 from channel_users u join channels c on c.id = u.channel_id
                        where c.server_id = s.id and u.nickname = s.nickname) as listed
         from servers s where s.id = any($1::int[])`,
        [ids],
      );
      return seen.every((row) => row.listed);
    }, 10_000);
  }, 150_000);

  it('places nothing new on a draining node; after undrain it takes placements again, and nothing moves back', async () => {
    // a node drained to the end: the one holding the fewest servers (none, once the test above has run)
    const allNames = system.ircNodes.map(nodeName);
    const held = await placements(system);
    const counts = allNames.map((name) => held.filter((row) => row.irc_node === name).length);
    const drained = allNames[counts.indexOf(Math.min(...counts))]!;
    expect((await post(`/api/irc-nodes/${drained}/drain`)).status).toBe(202);
    await eventually(async () => (await placements(system)).every((row) => row.irc_node !== drained), 60_000, 100);
    expect((await nodes()).find((node) => node.name === drained)?.state).toBe('draining');
    const placedBefore = await placements(system);

    // servers created while it drains: none goes there, though some would have by rendezvous over all three
    const created: number[] = [];
    while (!created.some((id) => placeOnNode(id, allNames) === drained) && created.length < 20) {
      const id = await api.createServer({
        host: system.ircd.host,
        port: system.ircd.port,
        nickname: `new${created.length}`,
      });
      await api.connect(id);
      created.push(id);
    }
    expect(created.some((id) => placeOnNode(id, allNames) === drained)).toBe(true);
    const placed = await system.db.query<{ irc_node: string | null }>(
      'select irc_node from servers where id = any($1::int[])',
      [created],
    );
    expect(placed.every((row) => row.irc_node !== null && row.irc_node !== drained)).toBe(true);

    // the drain is shared by every web instance: another one sees it, and may end it
    const other = await system.startAnotherWeb();
    const otherNodes = async () =>
      ((await (await fetch(`${other.url}/api/irc-nodes`)).json()) as { nodes: NodeView[] }).nodes;
    expect((await otherNodes()).find((node) => node.name === drained)?.state).toBe('draining');
    expect((await fetch(`${other.url}/api/irc-nodes/${drained}/undrain`, { method: 'POST' })).status).toBe(202);
    expect((await nodes()).find((node) => node.name === drained)?.state).not.toBe('draining');
    await other.signal('SIGTERM');
    await api.checkNow();
    // placement does not move back by itself
    const now = await placements(system);
    for (const row of placedBefore) expect(now.find((each) => each.id === row.id)?.irc_node).toBe(row.irc_node);

    // eligible again: a new server whose rendezvous choice is the undrained node goes there
    let landed: number | undefined;
    for (let index = 0; index < 30 && landed === undefined; index += 1) {
      const id = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: `back${index}` });
      await api.connect(id);
      if (placeOnNode(id, allNames) === drained) landed = id;
    }
    expect(landed).toBeDefined();
    const [row] = await system.db.query<{ irc_node: string }>('select irc_node from servers where id = $1', [landed]);
    expect(row?.irc_node).toBe(drained);
  }, 120_000);
});
