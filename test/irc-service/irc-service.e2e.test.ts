import { serve } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IrcConnectionTiming } from '../../machines/irc-connection.machine.ts';
import { createIrcServiceApp } from '../../src/irc-service/app.ts';
import { ConnectThrottle } from '../../src/irc-service/connect-throttle.ts';
import { createIrcClientActor } from '../../src/irc-service/irc-client.actor.ts';
import { IrcConnectionRegistry, type IrcEventMap } from '../../src/irc-service/irc-connection-registry.ts';
import { listen } from '../../src/process/listen.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { type Ngircd, startNgircd } from '../support/ngircd.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { openSse, type SseEvent } from '../support/sse-client.ts';

const TOKEN = 'e2e-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}` };

/** Short enough that a dead or hung server shows within a second or two. */
const timing: Partial<IrcConnectionTiming> = {
  reconnectBaseMs: 100,
  reconnectMaxMs: 400,
  reconnectJitter: 0,
  registrationTimeoutMs: 3_000,
  quitTimeoutMs: 1_000,
  pingIntervalMs: 300,
  pingTimeoutMs: 1_000,
};

/** The IRC service in this process with its real client actor, listening on a free loopback port. */
async function startService() {
  const events = new EventStream<IrcEventMap>({ heartbeatMs: 0 });
  const registry = new IrcConnectionRegistry({
    // flood control at a test's pace (its own test paces at the defaults)
    clientLogic: createIrcClientActor({ throttle: new ConnectThrottle(8), sendIntervalMs: 100 }),
    onEvent: (event) => events.publish(event.type, event.payload as never),
    timing,
  });
  const app = createIrcServiceApp({ registry, events, token: TOKEN });
  const server = await listen(serve, app, '127.0.0.1', 0);
  const stream = await openSse(`${server.url}/internal/irc/events`, auth);

  const request = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  return {
    registry,
    stream,
    request,
    async status(): Promise<number[]> {
      const answer = await request('GET', '/internal/irc/status');
      return (answer.body as { connections: number[] }).connections;
    },
    async close() {
      stream.close();
      await registry.stopAll(2_000);
      events.close();
      await server.close();
    },
  };
}

type Service = Awaited<ReturnType<typeof startService>>;

function event(type: string, payload: Record<string, unknown>) {
  return (candidate: SseEvent) =>
    candidate.type === type &&
    Object.entries(payload).every(([key, value]) => (candidate.data as Record<string, unknown>)[key] === value);
}

describe.skipIf(lacks('ngircd'))('IRC service against a real ngircd', () => {
  let ircd: Ngircd;
  let service: Service;
  const observers: IrcObserver[] = [];

  beforeEach(async () => {
    ircd = await startNgircd();
    service = await startService();
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
    await service.stream.waitFor(event('connected', { serverId: 1, nickname: 'svc1' }));
  });

  it('reports joined and names events for a join', async () => {
    const observer = await connectObserver(ircd, 'watcher');
    observers.push(observer);
    await observer.join('#lobby');
    await service.request('PUT', '/internal/irc/connections/1', connection('svc1'));
    await service.stream.waitFor(event('connected', { serverId: 1 }));

    const answer = await service.request('POST', '/internal/irc/connections/1/channels', { name: '#Lobby' });

    expect(answer.status).toBe(202);
    await service.stream.waitFor(event('joined', { serverId: 1, channel: '#lobby' }));
    const names = await service.stream.waitFor(event('names', { serverId: 1, channel: '#lobby' }));
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
    for (const channel of channels) await service.stream.waitFor(event('names', { serverId: 1, channel }));
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
    await service.stream.waitFor(event('joined', { serverId: 1, channel: '#lobby' }));
    await eventually(async () => (await service.status()).includes(1), 2_000, 20);

    await ircd.kill('SIGKILL');

    await service.stream.waitFor(event('disconnected', { serverId: 1 }));
    expect(await service.status()).toEqual([]);
    await service.stream.waitFor(event('reconnecting', { serverId: 1 }));

    const before = service.stream.events.length;
    await ircd.restart();

    const after = (candidate: SseEvent) => service.stream.events.indexOf(candidate) >= before;
    await service.stream.waitFor((e) => after(e) && event('connected', { serverId: 1 })(e), 5_000);
    await service.stream.waitFor((e) => after(e) && event('joined', { serverId: 1, channel: '#lobby' })(e), 5_000);
    expect(await service.status()).toEqual([1]);
    const observer = await connectObserver(ircd, 'watcher');
    observers.push(observer);
    await observer.join('#lobby');
    expect(observer.lines.some((line) => / 353 watcher . #lobby :.*\bsvc1\b/i.test(line))).toBe(true);
  });

  it('detects a hung server by ping timeout', async () => {
    await service.request('PUT', '/internal/irc/connections/1', connection('svc1'));
    await service.stream.waitFor(event('connected', { serverId: 1 }));

    await ircd.kill('SIGSTOP');

    const lost = await service.stream.waitFor(event('disconnected', { serverId: 1 }), 5_000);
    expect((lost.data as { reason: string }).reason).toMatch(/ping timeout/i);
    expect(await service.status()).toEqual([]);

    const before = service.stream.events.length;
    await ircd.kill('SIGCONT');
    await service.stream.waitFor(
      (e) => service.stream.events.indexOf(e) >= before && event('connected', { serverId: 1 })(e),
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

  it('registers 200 connections to one server, all listed in /status', { timeout: 60_000 }, async () => {
    const ids = Array.from({ length: 200 }, (_, index) => index + 1);

    const answers = await Promise.all(
      ids.map((id) => service.request('PUT', `/internal/irc/connections/${id}`, connection(`load${id}`))),
    );

    expect(answers.every((answer) => answer.status === 202)).toBe(true);
    await eventually(async () => (await service.status()).length === ids.length, 30_000, 100);
    expect(await service.status()).toEqual(ids);
  });
});
