import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveOn } from '../support/cluster.ts';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { openSse, type SseClient } from '../support/sse-client.ts';
import { type System, startSettledSystem } from '../support/system.ts';
import type { WebApi } from '../support/web-api.ts';

/**
 * Intent first, converge after, under a hung IRC service (SIGSTOP: the kernel still accepts its
 * connections, nothing answers). Operator actions answer 202 at once, the probes and the API keep
 * answering, the check goes on schedule (unknown, then degraded); after SIGCONT everything converges:
 * each wanted server connected once, the disconnected one closed, wanted channels joined.
 */
describe.skipIf(lacks('ngircd'))('fault: a hung IRC service with 100 actions waiting', { timeout: 90_000 }, () => {
  let system: System;
  let api: WebApi;
  let ircEvents: SseClient | undefined;

  beforeAll(async () => {
    ({ system, api } = await startSettledSystem({
      env: {
        RECONNECT_STAGGER_MS: '20',
        HEALTH_CHECK_INTERVAL_MS: '1000',
        IRC_STATUS_TIMEOUT_MS: '1000',
        HEALTH_CHECK_FAILURE_THRESHOLD: '2',
      },
    }));
  });
  afterAll(async () => {
    ircEvents?.close();
    await system?.irc.signal('SIGCONT');
    await system?.dispose();
  });

  const liveIds = () => liveOn(system, system.irc);

  async function timed(path: string, init?: RequestInit): Promise<{ status: number; ms: number }> {
    const started = performance.now();
    const response = await fetch(`${system.web.url}${path}`, init);
    await response.arrayBuffer();
    return { status: response.status, ms: Math.round(performance.now() - started) };
  }

  it('answers within the second while hung, and converges after SIGCONT', async () => {
    const live: number[] = [];
    for (let index = 0; index < 6; index += 1) {
      const id = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: `live${index}` });
      await api.connect(id);
      live.push(id);
    }
    const later: number[] = [];
    for (let index = 0; index < 10; index += 1) {
      later.push(await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: `later${index}` }));
    }
    await eventually(async () => (await liveIds()).length === live.length, 10_000);
    ircEvents = await openSse(`${system.irc.url}/internal/irc/events`, { authorization: `Bearer ${system.token}` });
    const [unwanted, ...kept] = live as [number, ...number[]];

    await system.irc.signal('SIGSTOP');
    // 100 actions: connects (each asked five times), a disconnect, joins on live and later servers
    const actions: Array<{ path: string; init: RequestInit }> = [];
    for (let round = 0; round < 5; round += 1) {
      for (const id of later) actions.push({ path: `/api/servers/${id}/connect`, init: { method: 'POST' } });
    }
    actions.push({ path: `/api/servers/${unwanted}/disconnect`, init: { method: 'POST' } });
    const servers = [...kept, ...later];
    for (let index = 0; actions.length < 100; index += 1) {
      const serverId = servers[index % servers.length]!;
      actions.push({
        path: `/api/servers/${serverId}/channels`,
        init: {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: `#hung${index % 3}` }),
        },
      });
    }
    const answers = await Promise.all(actions.map(({ path, init }) => timed(path, init)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(100).fill(202));

    // while the calls wait on the hung IRC service (and beyond their timeout), probes and the API answer
    const probes: Record<string, { status: number; ms: number }[]> = { readyz: [], servers: [], health: [] };
    const probeUntil = performance.now() + 4_000;
    while (performance.now() < probeUntil) {
      const [readyz, list, health] = await Promise.all([
        timed('/readyz'),
        timed('/api/servers'),
        timed('/api/health-check'),
      ]);
      probes.readyz!.push(readyz);
      probes.servers!.push(list);
      probes.health!.push(health);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const samples of Object.values(probes)) {
      expect(samples.every((sample) => sample.status === 200)).toBe(true);
    }
    const worst = (samples: { ms: number }[]) => Math.max(...samples.map((sample) => sample.ms));
    console.info(
      `hung IRC service, 100 actions waiting: actions worst ${worst(answers)} ms; probes worst: /readyz ${worst(probes.readyz!)} ms, ` +
        `GET /api/servers ${worst(probes.servers!)} ms, GET /api/health-check ${worst(probes.health!)} ms ` +
        `(${probes.readyz!.length} rounds)`,
    );
    // the check ran on schedule: unknown results, then degraded past the threshold
    await api.waitForState('degraded', 10_000);
    const { servers: listed } = await (await fetch(`${system.web.url}/api/servers`)).json();
    const laterView = listed.find((server: { id: number }) => server.id === later[0]);
    expect(laterView).toMatchObject({ autoconnect: true, connected: false, pending: { reason: expect.any(String) } });

    await system.irc.signal('SIGCONT');

    const wanted = [...kept, ...later].sort((a, b) => a - b);
    await eventually(async () => JSON.stringify(await liveIds()) === JSON.stringify(wanted), 20_000);
    await eventually(async () => {
      const rows = await system.db.query<{ id: number }>(
        'select id from servers where connected_at is not null order by id',
      );
      return JSON.stringify(rows.map((row) => row.id)) === JSON.stringify(wanted);
    }, 10_000);
    await eventually(async () => {
      const [row] = await system.db.query<{ n: number }>(
        `select count(*)::int as n from channels where wanted and not joined and server_id = any($1::int[])`,
        [wanted],
      );
      return row!.n === 0;
    }, 10_000);
    await eventually(async () => {
      const [row] = await system.db.query<{ n: number }>(
        'select count(*)::int as n from servers where pending_since is not null',
      );
      return row!.n === 0;
    }, 10_000);

    // each wanted server connected once: the later ones registered, the kept ones stayed, none lost its
    // connection or was connected again (a resync repeats `connected` without a new connection, so the
    // count is of registrations that ended: none of a wanted server)
    const seen = (type: string, serverId: number) =>
      ircEvents!.events.filter(
        (event) => event.type === type && (event.data as { serverId: number }).serverId === serverId,
      ).length;
    expect(later.filter((id) => seen('connected', id) === 0)).toEqual([]);
    expect(wanted.filter((id) => seen('disconnected', id) + seen('reconnecting', id) > 0)).toEqual([]);
    expect(seen('disconnected', unwanted)).toBe(1);
    expect(await liveIds()).not.toContain(unwanted);
    const [unwantedRow] = await system.db.query<{ autoconnect: boolean; connected_at: Date | null }>(
      'select autoconnect, connected_at from servers where id = $1',
      [unwanted],
    );
    expect(unwantedRow).toEqual({ autoconnect: false, connected_at: null });
  });

  it('a join and a part while the IRC service is down converge when it returns', async () => {
    const [serverId] = await liveIds();
    const channels = async () =>
      system.db.query<{ name: string; wanted: boolean; joined: boolean }>(
        'select name, wanted, joined from channels where server_id = $1 order by name',
        [serverId],
      );
    expect((await channels()).map((row) => row.name)).toContain('#hung0');

    await system.irc.signal('SIGKILL');
    const join = await fetch(`${system.web.url}/api/servers/${serverId}/channels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '#whiledown' }),
    });
    const part = await fetch(`${system.web.url}/api/servers/${serverId}/channels/${encodeURIComponent('#hung0')}`, {
      method: 'DELETE',
    });
    expect([join.status, part.status]).toEqual([202, 202]);

    await system.irc.start();

    await eventually(async () => (await liveIds()).includes(serverId!), 15_000);
    await eventually(async () => {
      const rows = await channels();
      return rows.some((row) => row.name === '#whiledown' && row.joined) && !rows.some((row) => row.name === '#hung0');
    }, 10_000);
  });
});

/**
 * The operator stops wanting a connection while the IRC service is hung: the action answers 202 and the
 * wish shows as pending; after SIGCONT a single check is enough for the connection to close, and the IRC
 * network itself sees the QUIT. The schedule is an hour long, so the only check after SIGCONT is the one
 * the test asks for (the IRC events stream stays open through a SIGSTOP, so it asks for none).
 */
describe.skipIf(lacks('ngircd'))('fault: a disconnect while the IRC service is hung', { timeout: 60_000 }, () => {
  let system: System;
  let api: WebApi;
  let observer: IrcObserver | undefined;

  beforeAll(async () => {
    ({ system, api } = await startSettledSystem({
      env: { HEALTH_CHECK_INTERVAL_MS: '3600000', IRC_STATUS_TIMEOUT_MS: '1000' },
    }));
  });
  afterAll(async () => {
    observer?.close();
    await system?.irc.signal('SIGCONT');
    await system?.dispose();
  });

  const liveIds = () => liveOn(system, system.irc);

  async function serverView(serverId: number) {
    const { servers } = await (await fetch(`${system.web.url}/api/servers`)).json();
    return servers.find((server: { id: number }) => server.id === serverId);
  }

  it('answers 202, and after SIGCONT one check closes the connection and ngircd sees its QUIT', async () => {
    observer = await connectObserver(system.ircd, 'quitwatcher');
    await observer.join('#quitwatch');
    const serverId = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: 'hungquit' });
    await api.connect(serverId);
    await api.join(serverId, '#quitwatch');
    await observer.waitForLine(/^:hungquit!\S+ JOIN :?#quitwatch/i, 10_000);
    await eventually(async () => (await liveIds()).includes(serverId), 5_000);

    await system.irc.signal('SIGSTOP');
    const disconnect = await fetch(`${system.web.url}/api/servers/${serverId}/disconnect`, { method: 'POST' });

    expect(disconnect.status).toBe(202);
    // the wish is kept and shown as pending once the call to the hung IRC service has timed out
    await eventually(async () => (await serverView(serverId))?.pending !== null, 10_000);
    expect(await serverView(serverId)).toMatchObject({
      autoconnect: false,
      pending: { since: expect.any(String), reason: expect.stringMatching(/\S/) },
    });
    expect(observer.lines.some((line) => /^:hungquit!\S+ QUIT/i.test(line))).toBe(false);

    await system.irc.signal('SIGCONT');
    const report = await api.checkNow();

    await observer.waitForLine(/^:hungquit!\S+ QUIT/i, 10_000);
    await eventually(async () => !(await liveIds()).includes(serverId), 5_000);
    await eventually(async () => (await serverView(serverId))?.pending === null, 5_000);
    const [row] = await system.db.query<{ autoconnect: boolean; connected_at: Date | null }>(
      'select autoconnect, connected_at from servers where id = $1',
      [serverId],
    );
    expect(row).toEqual({ autoconnect: false, connected_at: null });
    // no other check ran meanwhile: the one asked for was enough
    expect((await api.health()).lastReport?.checkedAt).toBe(report.checkedAt);
  });
});
