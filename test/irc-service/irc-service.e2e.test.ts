/**
 * The IRC service against real IRC servers (ngircd and InspIRCd 3): registering, joining and names, resync,
 * a server that dies or hangs, QUIT on DELETE, and 200 connections to one server.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type InProcessIrcService, ircEvent, startInProcessIrcService } from '../support/in-process-irc-service.ts';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { describeEachIrcServer } from '../support/irc-servers.ts';
import type { IrcServerProcess } from '../support/ircd-process.ts';
import { eventually } from '../support/process.ts';
import type { SseEvent } from '../support/sse-client.ts';

describeEachIrcServer('IRC service against a real server', {}, (server) => {
  let ircd: IrcServerProcess;
  let service: InProcessIrcService;
  const observers: IrcObserver[] = [];

  beforeEach(async () => {
    ircd = await server.start();
    service = await startInProcessIrcService({ timing: server.timing });
  });

  afterEach(async () => {
    for (const observer of observers.splice(0)) observer.close();
    await service.close();
    await ircd.dispose();
  });

  const connection = (nickname: string, extra: Record<string, unknown> = {}) => ({
    host: ircd.host,
    port: ircd.port,
    nickname,
    ...extra,
  });

  it('lists a connection in /status within 2 s of its PUT', async () => {
    const started = Date.now();
    const answer = await service.request('PUT', '/internal/irc/connections/1', connection('svc1'));

    expect(answer.status).toBe(202);
    await eventually(async () => (await service.status()).includes(1), 2_000, 20);
    expect(Date.now() - started).toBeLessThan(2_000);
    await service.stream.waitFor(ircEvent('connected', { serverId: 1, nickname: 'svc1' }));
  });

  it('reports joined and names events for a join', async () => {
    const observer = await connectObserver(ircd, 'watcher');
    observers.push(observer);
    await observer.join('#lobby');
    await service.request('PUT', '/internal/irc/connections/1', connection('svc1'));
    await service.stream.waitFor(ircEvent('connected', { serverId: 1 }));

    const answer = await service.request('POST', '/internal/irc/connections/1/channels', { name: '#Lobby' });

    expect(answer.status).toBe(202);
    await service.stream.waitFor(ircEvent('joined', { serverId: 1, channel: '#lobby' }));
    const names = await service.stream.waitFor(ircEvent('names', { serverId: 1, channel: '#lobby' }));
    expect((names.data as { users: unknown[] }).users).toEqual(
      expect.arrayContaining([
        { nickname: 'watcher', modes: 'o' },
        { nickname: 'svc1', modes: '' },
      ]),
    );
    await observer.waitForLine(/^:svc1!\S+ JOIN :?#lobby/i);
  });

  it('resync: a connection announces its channels again, with fresh names from the network', async () => {
    const channels = ['#one', '#two', '#three'];
    await service.request('PUT', '/internal/irc/connections/1', connection('svc1', { channels }));
    for (const channel of channels) await service.stream.waitFor(ircEvent('names', { serverId: 1, channel }));
    const before = service.stream.events.length;

    const answer = await service.request('POST', '/internal/irc/resync', {});

    expect(answer).toEqual({ status: 202, body: { serverIds: [1] } });
    const again = () => service.stream.events.slice(before);
    await eventually(() => again().filter((candidate) => candidate.type === 'names').length === 3, 5_000);
    expect(
      again()
        .filter((candidate) => candidate.type === 'joined')
        .map((candidate) => candidate.data),
    ).toEqual(channels.map((channel) => ({ serverId: 1, channel })));
    for (const names of again().filter((candidate) => candidate.type === 'names')) {
      expect((names.data as { users: unknown[] }).users).toEqual([{ nickname: 'svc1', modes: 'o' }]);
    }
  });

  it('drops out of /status when the server dies, then reconnects and rejoins when it comes back', async () => {
    await service.request('PUT', '/internal/irc/connections/1', connection('svc1', { channels: ['#lobby'] }));
    await service.stream.waitFor(ircEvent('joined', { serverId: 1, channel: '#lobby' }));
    await eventually(async () => (await service.status()).includes(1), 2_000, 20);

    await ircd.kill('SIGKILL');

    await service.stream.waitFor(ircEvent('disconnected', { serverId: 1 }));
    expect(await service.status()).toEqual([]);
    await service.stream.waitFor(ircEvent('reconnecting', { serverId: 1 }));

    const before = service.stream.events.length;
    await ircd.restart();

    const after = (candidate: SseEvent) => service.stream.events.indexOf(candidate) >= before;
    await service.stream.waitFor((e) => after(e) && ircEvent('connected', { serverId: 1 })(e), 5_000);
    await service.stream.waitFor((e) => after(e) && ircEvent('joined', { serverId: 1, channel: '#lobby' })(e), 5_000);
    expect(await service.status()).toEqual([1]);
    const observer = await connectObserver(ircd, 'watcher');
    observers.push(observer);
    await observer.join('#lobby');
    expect(observer.lines.some((line) => / 353 watcher . #lobby :.*\bsvc1\b/i.test(line))).toBe(true);
  });

  it('detects a hung server by ping timeout', async () => {
    await service.request('PUT', '/internal/irc/connections/1', connection('svc1'));
    await service.stream.waitFor(ircEvent('connected', { serverId: 1 }));

    await ircd.kill('SIGSTOP');

    // the ping timeout, and time for the ping that finds it (InspIRCd's timeout is longer: see irc-servers.ts)
    const lost = await service.stream.waitFor(
      ircEvent('disconnected', { serverId: 1 }),
      (server.timing.pingTimeoutMs ?? 1_000) + 4_000,
    );
    expect((lost.data as { reason: string }).reason).toMatch(/ping timeout/i);
    expect(await service.status()).toEqual([]);

    const before = service.stream.events.length;
    await ircd.kill('SIGCONT');
    await service.stream.waitFor(
      (e) => service.stream.events.indexOf(e) >= before && ircEvent('connected', { serverId: 1 })(e),
      10_000,
    );
  });

  it('sends QUIT on DELETE, which the other users of the channel see', async () => {
    const observer = await connectObserver(ircd, 'watcher');
    observers.push(observer);
    await observer.join('#lobby');
    await service.request('PUT', '/internal/irc/connections/1', connection('svc1', { channels: ['#lobby'] }));
    await observer.waitForLine(/^:svc1!\S+ JOIN :?#lobby/i);

    const answer = await service.request('DELETE', '/internal/irc/connections/1');

    expect(answer.status).toBe(202);
    await observer.waitForLine(/^:svc1!\S+ QUIT :.*irc-supervisor: disconnecting/);
    await eventually(() => !service.registry.has(1), 2_000, 20);
    expect(await service.status()).toEqual([]);
    expect((await service.request('DELETE', '/internal/irc/connections/1')).status).toBe(404);
  });

  // Our side's load (8 connects in flight per host), not the protocol: against InspIRCd, which welcomes a client
  // only at its once-a-second tick, 200 take 25 s and say nothing more.
  if (server.program === 'ngircd') {
    it('registers 200 connections to one server, all listed in /status', { timeout: 60_000 }, async () => {
      const ids = Array.from({ length: 200 }, (_, index) => index + 1);

      const answers = await Promise.all(
        ids.map((id) => service.request('PUT', `/internal/irc/connections/${id}`, connection(`load${id}`))),
      );

      expect(answers.every((answer) => answer.status === 202)).toBe(true);
      await eventually(async () => (await service.status()).length === ids.length, 30_000, 100);
      expect(await service.status()).toEqual(ids);
    });
  }
});
