/**
 * IRC networks as they are, against real ngircd and InspIRCd 3: nicknames by the network's NICKLEN (a fallback
 * that fits, the wanted nickname taken back once it frees: by ISON on ngircd, by MONITOR on InspIRCd; two of our
 * connections wanting one nickname end with one on it, then the other once the first goes), and 100
 * channels rejoined after the network restarts with the server's own flood control on and ours at its defaults,
 * without the connection ever being dropped.
 */
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_FLOOD_CONTROL } from '../../src/irc-service/send-queue.ts';
import { type InProcessIrcService, ircEvent, startInProcessIrcService } from '../support/in-process-irc-service.ts';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { describeEachIrcServer } from '../support/irc-servers.ts';
import type { IrcServerProcess } from '../support/ircd-process.ts';
import type { SseEvent } from '../support/sse-client.ts';

describeEachIrcServer('IRC service on a network with its own rules', { timeout: 60_000 }, (server) => {
  let ircd: IrcServerProcess | undefined;
  let service: InProcessIrcService | undefined;
  const observers: IrcObserver[] = [];

  afterEach(async () => {
    for (const observer of observers.splice(0)) observer.close();
    await service?.close();
    await ircd?.dispose();
  });

  it('a nickname at NICKLEN that is taken registers with a fallback that fits, then is taken back once free', async () => {
    ircd = await server.start({ nicklen: 9 });
    const holder = await connectObserver(ircd, 'ninenicks');
    observers.push(holder);
    // where MONITOR is offered, ISON would come too late for this test: the server's word that it frees must do
    const nickRegainIntervalMs = server.monitor ? 600_000 : 200;
    service = await startInProcessIrcService({ timing: server.timing, client: { nickRegainIntervalMs } });

    await service.request('PUT', '/internal/irc/connections/1', {
      host: ircd.host,
      port: ircd.port,
      nickname: 'ninenicks',
    });

    // `ninenicks_` would not fit nine characters: the tail is replaced instead
    await service.stream.waitFor(ircEvent('connected', { serverId: 1, nickname: 'ninenick_' }));
    holder.send('QUIT :leaving');
    await service.stream.waitFor(
      ircEvent('nick-changed', { serverId: 1, nickname: 'ninenick_', newNickname: 'ninenicks' }),
    );
    const watcher = await connectObserver(ircd, 'watcher');
    observers.push(watcher);
    watcher.send('WHOIS ninenicks');
    await watcher.waitForLine(/ 311 watcher ninenicks /);
  });

  it('two connections wanting one nickname: one holds it, the other a fallback, which takes it once the first goes', async () => {
    // which one wins is the server's choice: on InspIRCd the newer unregistered client takes it from the older
    ircd = await server.start({ nicklen: 9 });
    const nickRegainIntervalMs = server.monitor ? 600_000 : 200;
    service = await startInProcessIrcService({ timing: server.timing, client: { nickRegainIntervalMs } });
    const settings = { host: ircd.host, port: ircd.port, nickname: 'twin' };

    await Promise.all([11, 12].map((id) => service!.request('PUT', `/internal/irc/connections/${id}`, settings)));

    const registered = async (id: number) =>
      (await service!.stream.waitFor(ircEvent('connected', { serverId: id }))).data as { nickname: string };
    const nicknames = [(await registered(11)).nickname, (await registered(12)).nickname];
    expect([...nicknames].sort()).toEqual(['twin', 'twin_']);
    const [holder, other] = nicknames[0] === 'twin' ? [11, 12] : [12, 11];

    await service.request('DELETE', `/internal/irc/connections/${holder}`);

    await service.stream.waitFor(ircEvent('nick-changed', { serverId: other, nickname: 'twin_', newNickname: 'twin' }));
    expect(await service.status()).toEqual([other]);
    const watcher = await connectObserver(ircd, 'watcher');
    observers.push(watcher);
    watcher.send('WHOIS twin');
    await watcher.waitForLine(/ 311 watcher twin /);
  });

  it('a nickname longer than NICKLEN (432) registers with a fallback cut to the limit', async () => {
    ircd = await server.start({ nicklen: 9 });
    service = await startInProcessIrcService({ timing: server.timing });

    await service.request('PUT', '/internal/irc/connections/2', {
      host: ircd.host,
      port: ircd.port,
      nickname: 'tenletters',
    });

    await service.stream.waitFor(ircEvent('connected', { serverId: 2, nickname: 'tenlette_' }));
    expect(await service.status()).toEqual([2]);
  });

  it('100 channels are rejoined after the network restarts, within the flood limits, never dropped for flooding', async () => {
    // the server's flood control at its defaults (about one command a second once a client has sent a burst)
    ircd = await server.start({ penalties: 'default' });
    // our flood control at its defaults (IRC_SEND_BURST, IRC_SEND_INTERVAL_MS); pings slow enough for the penalties
    service = await startInProcessIrcService({
      client: { sendBurst: DEFAULT_FLOOD_CONTROL.burst, sendIntervalMs: DEFAULT_FLOOD_CONTROL.intervalMs },
      timing: {
        reconnectBaseMs: 100,
        reconnectMaxMs: 400,
        reconnectJitter: 0,
        pingIntervalMs: 5_000,
        pingTimeoutMs: 20_000,
      },
    });
    const channels = Array.from({ length: 100 }, (_, i) => `#room-${String(i).padStart(3, '0')}`);
    const joinedAfter = (from: number) => () =>
      new Set(
        service!.stream.events
          .slice(from)
          .filter((event) => event.type === 'joined')
          .map((event) => (event.data as { channel: string }).channel),
      );
    await service.request('PUT', '/internal/irc/connections/3', {
      host: ircd.host,
      port: ircd.port,
      nickname: 'many',
      channels,
    });
    await service.stream.waitFor(() => joinedAfter(0)().size === 100, 30_000);

    await ircd.kill('SIGKILL');
    await service.stream.waitFor(ircEvent('disconnected', { serverId: 3 }));
    const before = service.stream.events.length;
    await ircd.restart();

    await service.stream.waitFor(() => joinedAfter(before)().size === 100, 30_000);
    const after = service.stream.events.slice(before);
    expect(after.filter((event: SseEvent) => event.type === 'connected')).toHaveLength(1);
    expect(after.filter((event: SseEvent) => event.type === 'disconnected')).toEqual([]);
    expect(await service.status()).toEqual([3]);
    expect(ircd.output()).not.toMatch(/flood|buffer space exhausted|recvq exceeded/i);
  });
});
