import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerStatusEvent } from '../../src/shared/web-events.ts';
import { connectionPicture } from '../support/connection-picture.ts';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { connectLiveServer } from '../support/live-server.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { openSse, type SseClient, type SseEvent } from '../support/sse-client.ts';
import { type System, startSystem } from '../support/system.ts';
import { type WebApi, webApi } from '../support/web-api.ts';

const statusOf = (serverId: number, connected: boolean) => (event: SseEvent) =>
  event.type === 'server-status' &&
  (event.data as ServerStatusEvent).serverId === serverId &&
  (event.data as ServerStatusEvent).connected === connected;

const DOWN = { connectedServers: 0, joinedChannels: 0, channelUsers: 0 };

/**
 * The IRC network dies (SIGKILL), comes back on the same port, or hangs (SIGSTOP): the IRC service's
 * connection actor reconnects and rejoins by itself, and the database follows through the events alone
 * (the periodic check is 30 s away and never needed).
 */
describe.skipIf(lacks('ngircd'))('fault: the IRC network (ngircd)', { timeout: 120_000 }, () => {
  let system: System;
  let api: WebApi;
  let browser: SseClient | undefined;
  const observers: IrcObserver[] = [];

  beforeEach(async () => {
    // short ping and backoff settings, so a hung network is noticed in about a second
    system = await startSystem({
      env: { IRC_PING_INTERVAL_MS: '500', IRC_PING_TIMEOUT_MS: '1000', IRC_RECONNECT_MAX_MS: '1000' },
    });
    api = webApi(system.web.url);
    await api.settled();
  });

  afterEach(async () => {
    browser?.close();
    browser = undefined;
    for (const observer of observers.splice(0)) observer.close();
    await system?.dispose();
  });

  async function observe(nickname: string): Promise<IrcObserver> {
    const observer = await connectObserver(system.ircd, nickname);
    observers.push(observer);
    await observer.join('#net');
    return observer;
  }

  async function liveServer(): Promise<number> {
    await observe('netwatch');
    return connectLiveServer(api, system.db.query, {
      ircd: system.ircd,
      nickname: 'netfault',
      channel: '#net',
      expectedUsers: 2,
    });
  }

  async function connectedAt(serverId: number): Promise<string | null> {
    const [row] = await system.db.query<{ at: string | null }>(
      `select to_json(connected_at) #>> '{}' as at from servers where id = $1`,
      [serverId],
    );
    return row?.at ?? null;
  }

  it('SIGKILL and restart on the same port: the connection comes back by itself and the database follows', async () => {
    const serverId = await liveServer();
    const before = await connectedAt(serverId);
    browser = await openSse(`${system.web.url}/events`);

    await system.ircd.kill('SIGKILL');

    // the `disconnected` event clears what was observed, channels included
    await browser.waitFor(statusOf(serverId, false), 10_000);
    expect(await connectionPicture(system.db.query, [serverId])).toEqual(DOWN);

    await system.ircd.restart();
    await observe('netwatch2');

    // the actor's backoff retries reach the new server; it registers and rejoins #net on its own
    await browser.waitFor(statusOf(serverId, true), 10_000);
    await eventually(
      async () =>
        JSON.stringify(await connectionPicture(system.db.query, [serverId])) ===
        JSON.stringify({
          connectedServers: 1,
          joinedChannels: 1,
          channelUsers: 2,
        }),
      10_000,
    );
    const users = await system.db.query<{ nickname: string }>(
      `select u.nickname from channel_users u join channels c on c.id = u.channel_id
       where c.server_id = $1 and c.name = '#net' order by u.nickname`,
      [serverId],
    );
    expect(users.map((user) => user.nickname)).toEqual(['netfault', 'netwatch2']);
    expect(await connectedAt(serverId)).not.toEqual(before);
    const status = await system.internalFetch(`${system.irc.url}/internal/irc/status`);
    expect(await status.json()).toEqual({ node: expect.any(String), connections: [serverId] });
    // the operator asked for one channel once: it was not duplicated by the rejoin
    expect(await system.db.query('select name from channels where server_id = $1', [serverId])).toEqual([
      { name: '#net' },
    ]);
  });

  it('SIGSTOP: the hung network is detected by ping timeout; resumed, the connection comes back', async () => {
    const serverId = await liveServer();
    browser = await openSse(`${system.web.url}/events`);

    await system.ircd.kill('SIGSTOP');

    await browser.waitFor(statusOf(serverId, false), 10_000);
    expect(await connectionPicture(system.db.query, [serverId])).toEqual(DOWN);
    const status = await system.internalFetch(`${system.irc.url}/internal/irc/status`);
    expect(await status.json()).toEqual({ node: expect.any(String), connections: [] });

    await system.ircd.kill('SIGCONT');

    await browser.waitFor(statusOf(serverId, true), 10_000);
    await eventually(async () => (await connectionPicture(system.db.query, [serverId])).joinedChannels === 1, 10_000);
    expect((await connectionPicture(system.db.query, [serverId])).connectedServers).toBe(1);
  });
});
