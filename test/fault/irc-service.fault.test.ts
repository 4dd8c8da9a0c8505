import { afterEach, describe, expect, it } from 'vitest';
import type { ServerStatusEvent } from '../../src/shared/web-events.ts';
import { connectionPicture } from '../support/connection-picture.ts';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { connectLiveServer } from '../support/live-server.ts';
import { eventually, isAlive } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { openSse, type SseClient, type SseEvent } from '../support/sse-client.ts';
import { type System, startSystem } from '../support/system.ts';
import { webApi } from '../support/web-api.ts';

const disconnectedEvent = (serverId: number) => (event: SseEvent) =>
  event.type === 'server-status' &&
  (event.data as ServerStatusEvent).serverId === serverId &&
  !(event.data as ServerStatusEvent).connected;

/**
 * The IRC service dies (SIGKILL) or hangs (SIGSTOP, its sockets still open) under a running web side:
 * the database and the browsers follow, the web side keeps serving, and nothing is left half-done.
 */
describe.skipIf(lacks('ngircd'))('fault: the IRC service process', { timeout: 60_000 }, () => {
  let system: System | undefined;
  let observer: IrcObserver | undefined;
  let browser: SseClient | undefined;

  afterEach(async () => {
    browser?.close();
    observer?.close();
    // a hung service must be resumed before it can be killed and reaped
    await system?.irc.signal('SIGCONT');
    await system?.dispose();
    system = browser = observer = undefined;
  });

  /** Two servers, each connected and in #fault with the observer: 2 servers, 2 channels, 6 users. */
  async function twoLiveServers(current: System) {
    const api = webApi(current.web.url);
    await api.settled();
    observer = await connectObserver(current.ircd, 'watcher');
    await observer.join('#fault');
    const first = await connectLiveServer(api, current.db.query, {
      ircd: current.ircd,
      nickname: 'faultone',
      channel: '#fault',
      expectedUsers: 2,
    });
    const second = await connectLiveServer(api, current.db.query, {
      ircd: current.ircd,
      nickname: 'faulttwo',
      channel: '#fault',
      expectedUsers: 3,
    });
    // the first server's channel hears the second one join
    await eventually(async () => (await connectionPicture(current.db.query)).channelUsers === 6);
    return { api, ids: [first, second] };
  }

  it('SIGKILL: every connected server gets the disconnect transition, browsers hear it, the web side stays up degraded', async () => {
    system = await startSystem();
    const { api, ids } = await twoLiveServers(system);
    expect(await connectionPicture(system.db.query)).toEqual({
      connectedServers: 2,
      joinedChannels: 2,
      channelUsers: 6,
    });
    browser = await openSse(`${system.web.url}/events`);
    const web = system.web.process!;

    await system.irc.signal('SIGKILL');

    // the dropped event stream triggers a check at once; no 30 s poll is waited for
    for (const id of ids) await browser.waitFor(disconnectedEvent(id), 10_000);
    expect(await connectionPicture(system.db.query)).toEqual({
      connectedServers: 0,
      joinedChannels: 0,
      channelUsers: 0,
    });
    // the operator's channels are kept (wanted), only what was observed is cleared
    expect(await system.db.query('select name from channels order by server_id')).toEqual([
      { name: '#fault' },
      { name: '#fault' },
    ]);
    const health = await api.waitForState('degraded');
    expect(health.lastReport).toMatchObject({ outcome: 'unavailable' });
    expect(isAlive(web.child.pid!)).toBe(true);
    expect((await fetch(`${system.web.url}/healthz`)).status).toBe(200);
    // each browser hears each server go exactly once
    for (const id of ids) expect(browser.events.filter(disconnectedEvent(id))).toHaveLength(1);
  });

  it('SIGSTOP: checks time out as unknown and change nothing until the threshold, then the rows are cleared', async () => {
    const threshold = 3;
    system = await startSystem({
      env: {
        HEALTH_CHECK_INTERVAL_MS: '1000',
        IRC_STATUS_TIMEOUT_MS: '300',
        HEALTH_CHECK_FAILURE_THRESHOLD: String(threshold),
      },
    });
    const current = system;
    const { api, ids } = await twoLiveServers(current);
    const live = await connectionPicture(current.db.query);
    browser = await openSse(`${current.web.url}/events`);
    const stream = browser;
    // the stream's first health event may describe a check from before the hang
    await stream.waitFor((event) => event.type === 'health');
    const from = stream.events.length;
    const unknownReports: number[] = [];
    const picturesWhileUnknown: unknown[] = [];
    const sawUnknown = async (count: number) => {
      await stream.waitFor(
        (event) =>
          stream.events.indexOf(event) >= from &&
          event.type === 'health' &&
          (event.data as { consecutiveUnknown: number }).consecutiveUnknown === count,
        10_000,
      );
      unknownReports.push(count);
      picturesWhileUnknown.push(await connectionPicture(current.db.query));
    };

    await current.irc.signal('SIGSTOP');

    for (let count = 1; count <= threshold; count += 1) await sawUnknown(count);
    for (const id of ids) await stream.waitFor(disconnectedEvent(id), 10_000);

    // the picture is read as each report comes in, a second before the next check starts
    const cleared = { connectedServers: 0, joinedChannels: 0, channelUsers: 0 };
    expect(unknownReports).toEqual([1, 2, 3]);
    expect(picturesWhileUnknown).toEqual([live, live, cleared]);
    expect(await connectionPicture(current.db.query)).toEqual(cleared);
    for (const id of ids) expect(stream.events.filter(disconnectedEvent(id))).toHaveLength(1);
    const health = await api.waitForState('degraded');
    // later checks keep counting the hang as unavailable
    expect(health.lastReport).toMatchObject({ outcome: 'unknown', treatedAsUnavailable: true });
    expect(health.lastReport?.error).not.toBeNull();
    expect(isAlive(current.web.process!.child.pid!)).toBe(true);
  });

  it('SIGSTOP then SIGCONT: the resumed service still holds its connections, and the database shows them whole again', async () => {
    system = await startSystem({
      env: { HEALTH_CHECK_INTERVAL_MS: '1000', IRC_STATUS_TIMEOUT_MS: '300', HEALTH_CHECK_FAILURE_THRESHOLD: '2' },
    });
    const current = system;
    const { ids } = await twoLiveServers(current);
    const live = await connectionPicture(current.db.query);
    await current.irc.signal('SIGSTOP');
    await eventually(async () => (await connectionPicture(current.db.query)).connectedServers === 0, 15_000);

    await current.irc.signal('SIGCONT');

    // the IRC connections never dropped: ngircd still has both in #fault
    const status = await current.internalFetch(`${current.irc.url}/internal/irc/status`);
    expect(await status.json()).toEqual({ node: expect.any(String), connections: ids });
    await eventually(async () => (await connectionPicture(current.db.query)).connectedServers === 2, 15_000);
    await eventually(
      async () => JSON.stringify(await connectionPicture(current.db.query)) === JSON.stringify(live),
      15_000,
    ).catch(async () => {
      throw new Error(
        `expected ${JSON.stringify(live)}, got ${JSON.stringify(await connectionPicture(current.db.query))}`,
      );
    });
  });
});
