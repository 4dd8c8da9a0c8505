import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everyServerConnected, expectRegisteredWherePlaced, liveOn, placements } from '../support/cluster.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { openSse } from '../support/sse-client.ts';
import { nodeName, type SideProcess, type System, startSettledSystem, startSystem } from '../support/system.ts';
import { type WebApi, webApi } from '../support/web-api.ts';

/** Enough servers that each of three nodes surely gets some by rendezvous hashing. */
const SERVERS = 24;

/**
 * The IRC service as a cluster of three real nodes, with ngircd, the web side and PostgreSQL: a node that
 * dies takes down only its own servers, which come back on the others; a node that hangs and resumes ends up
 * holding nothing that was placed elsewhere meanwhile.
 */
describe.skipIf(lacks('ngircd'))('fault: one IRC service node of three', () => {
  let system: System;
  let api: WebApi;

  beforeAll(async () => {
    ({ system, api } = await startSettledSystem({
      ircNodes: 3,
      env: {
        RECONNECT_STAGGER_MS: '10',
        HEALTH_CHECK_INTERVAL_MS: '1000',
        IRC_STATUS_TIMEOUT_MS: '400',
        HEALTH_CHECK_FAILURE_THRESHOLD: '2',
      },
    }));
    for (let index = 0; index < SERVERS; index += 1) {
      const id = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: `member${index}` });
      await api.connect(id);
    }
    await everyServerConnected(system);
  }, 60_000);
  afterAll(() => system?.dispose());

  it('SIGKILL of a node: only its servers are disconnected, each comes back on a surviving node, the others untouched', async () => {
    const before = await placements(system);
    const [victim, ...survivors] = system.ircNodes as [SideProcess, SideProcess, SideProcess];
    for (const node of system.ircNodes) {
      expect(before.filter((row) => row.irc_node === nodeName(node)).length, nodeName(node)).toBeGreaterThan(0);
    }
    const victims = before.filter((row) => row.irc_node === nodeName(victim));
    const others = before.filter((row) => row.irc_node !== nodeName(victim));
    const browser = await openSse(`${system.web.url}/events`);

    await victim.signal('SIGKILL');

    // its event stream drops and a check at once finds it refusing: within about a second each of its servers
    // has had the disconnect transition (it shows disconnected, or already placed on a survivor)
    await eventually(async () => {
      const now = await placements(system);
      return victims.every((row) => {
        const current = now.find((each) => each.id === row.id);
        return current?.connected_at === null || current?.irc_node !== nodeName(victim);
      });
    }, 1_500);
    await everyServerConnected(system);

    const after = await placements(system);
    for (const row of others) {
      expect(
        after.find((each) => each.id === row.id),
        `server ${row.id}`,
      ).toEqual(row);
    }
    const survivorNames = survivors.map(nodeName);
    for (const row of victims) {
      const current = after.find((each) => each.id === row.id);
      expect(survivorNames).toContain(current?.irc_node);
      // registered anew, so observed anew
      expect(current?.connected_at).not.toBe(row.connected_at);
    }
    // the nodes' own view: every server registered on exactly one node, the one it is placed on
    await expectRegisteredWherePlaced(system, survivors, after);

    // the operator sees where each server went, and which node is down
    const { servers } = (await (await fetch(`${system.web.url}/api/servers`)).json()) as {
      servers: Array<{ id: number; node: string }>;
    };
    expect(servers.map((server) => [server.id, server.node])).toEqual(after.map((row) => [row.id, row.irc_node]));
    const nodes = (await (await fetch(`${system.web.url}/api/irc-nodes`)).json()) as {
      nodes: Array<{ name: string; state: string; connections: number }>;
    };
    expect(nodes.nodes.map((node) => [node.name, node.state])).toEqual([
      [nodeName(victim), 'unavailable'],
      ...survivors.map((node) => [nodeName(node), 'healthy']),
    ]);
    const moved = victims[0]!;
    const movedTo = after.find((row) => row.id === moved.id)?.irc_node;
    await browser.waitFor((event) => {
      const status = event.data as { serverId?: number; connected?: boolean; node?: string };
      return (
        event.type === 'server-status' &&
        status.serverId === moved.id &&
        status.connected === true &&
        status.node === movedTo
      );
    }, 1_000);
    await browser.waitFor(
      (event) => event.type === 'node-status' && (event.data as { state?: string }).state === 'unavailable',
      1_000,
    );
    browser.close();
  }, 60_000);

  it('SIGSTOP then SIGCONT of a node: its servers move, and once it answers again it holds none of them', async () => {
    const live = system.ircNodes.filter((node) => node.process !== undefined) as [SideProcess, SideProcess];
    const [hung, other] = live;
    const moved = (await placements(system)).filter((row) => row.irc_node === nodeName(hung)).map((row) => row.id);
    expect(moved.length).toBeGreaterThan(0);

    await hung.signal('SIGSTOP');
    // silent past the threshold: its servers are disconnected and placed on the other node
    await eventually(async () => {
      const now = await placements(system);
      return moved.every((id) => now.find((row) => row.id === id)?.irc_node === nodeName(other));
    }, 15_000);
    await hung.signal('SIGCONT');

    // at most one check after it answers again, each server is registered on exactly one node: its own
    await eventually(async () => (await liveOn(system, hung)).length === 0, 5_000);
    await everyServerConnected(system);
    const after = await placements(system);
    expect(await liveOn(system, other)).toEqual(after.map((row) => row.id));
    expect(after.every((row) => row.irc_node === nodeName(other))).toBe(true);
  }, 60_000);
});

describe.skipIf(lacks('ngircd'))('fault: two web instances and three IRC service nodes', () => {
  let system: System;

  beforeAll(async () => {
    system = await startSystem({ ircNodes: 3, env: { RECONNECT_STAGGER_MS: '10', HEALTH_CHECK_INTERVAL_MS: '500' } });
  }, 60_000);
  afterAll(() => system?.dispose());

  it('makes one placement decision per server: each is registered on exactly one node, the one both instances show', async () => {
    const other = await system.startAnotherWeb();
    const apis = [webApi(system.web.url), webApi(other.url)];
    const ids: number[] = [];
    for (let index = 0; index < 12; index += 1) {
      // alternate instances: each passes its wishes on, both run checks
      const api = apis[index % 2]!;
      const id = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: `twice${index}` });
      await api.connect(id);
      ids.push(id);
    }
    await everyServerConnected(system);
    // several checks of both instances later, nothing has moved
    const placedRows = await placements(system);
    const placed = placedRows.map((row) => [row.id, row.irc_node]);
    await apis[0]!.checkNow();
    await apis[1]!.checkNow();
    expect((await placements(system)).map((row) => [row.id, row.irc_node])).toEqual(placed);

    expect(placedRows.map((row) => row.id)).toEqual(ids);
    await expectRegisteredWherePlaced(system, system.ircNodes, placedRows);
    for (const url of [system.web.url, other.url]) {
      const { servers } = (await (await fetch(`${url}/api/servers`)).json()) as {
        servers: Array<{ id: number; node: string }>;
      };
      expect(servers.map((server) => [server.id, server.node])).toEqual(placed);
    }
  }, 60_000);
});
