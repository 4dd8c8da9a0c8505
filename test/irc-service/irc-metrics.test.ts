import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientEvent, IrcClientInput } from '../../machines/irc-connection.machine.ts';
import { createIrcServiceApp } from '../../src/irc-service/app.ts';
import { SERVER_CLOSED_REASON } from '../../src/irc-service/close-reasons.ts';
import { ConnectThrottle } from '../../src/irc-service/connect-throttle.ts';
import { createIrcClientActor } from '../../src/irc-service/irc-client.actor.ts';
import { IrcConnectionRegistry, type IrcEventMap } from '../../src/irc-service/irc-connection-registry.ts';
import { disconnectReason, IrcServiceMetrics } from '../../src/irc-service/irc-metrics.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { timing } from '../machines/irc-connection.fixtures.ts';
import { eventually } from '../support/process.ts';
import { sampleValue } from '../support/prometheus.ts';
import { answerRegistration, type ScriptedClient, startScriptedIrcServer } from '../support/scripted-irc-server.ts';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}` };
const server = { host: 'irc.example.net', port: 6667, nickname: 'supervisor' };

/** A network the test plays: each socket opened waits for the test to say what its server does. */
function scriptedNetwork() {
  const sockets: Array<{ serverId: number; say: (event: IrcClientEvent) => void }> = [];
  const logic = fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack, receive }) => {
    sockets.push({ serverId: input.serverId, say: sendBack });
    receive((command) => {
      if (command.type === 'QUIT') sendBack({ type: 'CLOSED', reason: SERVER_CLOSED_REASON });
    });
  });
  return { logic, sockets, last: () => sockets.at(-1) ?? expect.fail('no socket was opened') };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  vi.useRealTimers();
});

/** The IRC service wired as main.ts wires it: each actor observed by the metrics, the app exposing them. */
function build() {
  const network = scriptedNetwork();
  const events = new EventStream<IrcEventMap>({ heartbeatMs: 0 });
  const registry = new IrcConnectionRegistry({
    clientLogic: network.logic,
    onEvent: (event) => events.publish(event.type, event.payload as never),
    timing,
    observe: () => metrics.connectionObserver(),
  });
  const metrics = new IrcServiceMetrics({
    connectionStates: () => registry.connectionStates(),
    sseClients: () => events.clientCount,
  });
  const app = createIrcServiceApp({ registry, events, token: TOKEN, metrics });
  cleanups.push(async () => {
    events.close();
    await registry.stopAll(100);
  });
  const scrape = async () => {
    const response = await app.request('/metrics', { headers: auth });
    expect(response.status).toBe(200);
    return response.text();
  };
  const put = (serverId: number) =>
    app.request(`/internal/irc/connections/${serverId}`, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(server),
    });
  return { app, network, scrape, put };
}

describe('GET /metrics on the IRC service', () => {
  it.each([
    ['no token', {}],
    ['a wrong token', { Authorization: 'Bearer wrong-token-0123456789abc' }],
  ])('is refused with %s, and says nothing', async (_label, headers) => {
    const { app } = build();

    const response = await app.request('/metrics', { headers });

    expect(response.status).toBe(401);
    expect(response.headers.get('WWW-Authenticate')).toBe('Bearer');
    expect(await response.text()).not.toContain('irc_supervisor_');
  });

  it('answers the text exposition format with the token, default process metrics included', async () => {
    const { app } = build();

    const response = await app.request('/metrics', { headers: auth });

    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('# TYPE irc_supervisor_connections gauge');
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
    expect(text).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
  });

  it('counts a registration, with its time, and shows the connection registered', async () => {
    const { network, scrape, put } = build();
    await put(1);
    expect(sampleValue(await scrape(), 'irc_supervisor_connections', { state: 'socket.connecting' })).toBe(1);

    network.last().say({ type: 'REGISTERED', nickname: 'supervisor' });

    const text = await scrape();
    expect(sampleValue(text, 'irc_supervisor_connection_attempts_total', { outcome: 'registered' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_connection_attempts_total', { outcome: 'failed' })).toBe(0);
    expect(sampleValue(text, 'irc_supervisor_registration_seconds_count')).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_connections', { state: 'socket.registered' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_connections', { state: 'socket.connecting' })).toBe(0);
  });

  it('counts a socket refused before registering as a failed attempt and a socket_error disconnect', async () => {
    const { network, scrape, put } = build();
    await put(1);

    network.last().say({ type: 'CLOSED', reason: 'connect ECONNREFUSED 127.0.0.1:6667' });

    const text = await scrape();
    expect(sampleValue(text, 'irc_supervisor_connection_attempts_total', { outcome: 'failed' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_disconnects_total', { reason: 'socket_error' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_registration_seconds_count')).toBe(0);
    expect(sampleValue(text, 'irc_supervisor_connections', { state: 'reconnecting' })).toBe(1);
  });

  it('counts a server that never registers us as a registration_timeout, then the retry as a new attempt', async () => {
    vi.useFakeTimers();
    const { network, scrape, put } = build();
    await put(1);

    await vi.advanceTimersByTimeAsync(timing.registrationTimeoutMs);
    await vi.advanceTimersByTimeAsync(timing.reconnectBaseMs); // the first retry waits the base delay (no jitter)
    network.last().say({ type: 'REGISTERED', nickname: 'supervisor' });

    const text = await scrape();
    expect(network.sockets).toHaveLength(2);
    expect(sampleValue(text, 'irc_supervisor_disconnects_total', { reason: 'registration_timeout' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_connection_attempts_total', { outcome: 'failed' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_connection_attempts_total', { outcome: 'registered' })).toBe(1);
  });

  it('tells a ping timeout, a server that closed, and our own QUIT apart', async () => {
    const { app, network, scrape, put } = build();
    await put(1);
    network.last().say({ type: 'REGISTERED', nickname: 'supervisor' });
    network.last().say({ type: 'CLOSED', reason: `Ping timeout (${timing.pingTimeoutMs} ms)` });
    await put(2);
    network.last().say({ type: 'REGISTERED', nickname: 'supervisor' });
    network.last().say({ type: 'CLOSED', reason: SERVER_CLOSED_REASON });
    await put(3);
    network.last().say({ type: 'REGISTERED', nickname: 'supervisor' });

    await app.request('/internal/irc/connections/3', { method: 'DELETE', headers: auth });

    const text = await scrape();
    expect(sampleValue(text, 'irc_supervisor_disconnects_total', { reason: 'ping_timeout' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_disconnects_total', { reason: 'server_closed' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_disconnects_total', { reason: 'quit' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_disconnects_total', { reason: 'socket_error' })).toBe(0);
    expect(sampleValue(text, 'irc_supervisor_connections', { state: 'reconnecting' })).toBe(2);
    // the stopped connection left the registry
    expect(sampleValue(text, 'irc_supervisor_connections', { state: 'socket.registered' })).toBe(0);
  });

  it('counts the clients of the event stream at scrape time', async () => {
    const { app, scrape } = build();
    const stream = await app.request('/internal/irc/events', { headers: auth });

    expect(sampleValue(await scrape(), 'irc_supervisor_sse_clients')).toBe(1);

    await stream.body?.cancel();
    expect(sampleValue(await scrape(), 'irc_supervisor_sse_clients')).toBe(0);
  });
});

describe('disconnects through the real client actor, from a scripted server', () => {
  it('counts a server that closes the link, with its ERROR line or without one, as server_closed', async () => {
    const clients: ScriptedClient[] = [];
    const welcome = answerRegistration((nickname) => ({ lines: [`:irc.test 001 ${nickname} :Welcome`], close: false }));
    const server = await startScriptedIrcServer((line, client) => {
      welcome(line, client);
      if (line.startsWith('USER ')) clients.push(client);
    });
    cleanups.push(() => server.dispose());
    const registry = new IrcConnectionRegistry({
      clientLogic: createIrcClientActor({ throttle: new ConnectThrottle(8) }),
      onEvent: () => {},
      // one socket each: the next attempt is far away
      timing: { reconnectBaseMs: 60_000, reconnectJitter: 0 },
      observe: () => metrics.connectionObserver(),
    });
    const metrics = new IrcServiceMetrics({ connectionStates: () => registry.connectionStates(), sseClients: () => 0 });
    cleanups.push(() => registry.stopAll(1_000));
    for (const serverId of [1, 2]) {
      registry.put(serverId, {
        settings: { host: server.host, port: server.port, tls: false, nickname: `tester${serverId}` },
      });
    }
    await eventually(() => registry.registeredIds().length === 2);

    clients[0]?.close(['ERROR :Closing Link: tester[127.0.0.1] (Server shutting down)']);
    clients[1]?.close();
    await eventually(() => registry.registeredIds().length === 0);

    const text = await metrics.registry.metrics();
    expect(sampleValue(text, 'irc_supervisor_disconnects_total', { reason: 'server_closed' })).toBe(2);
    expect(sampleValue(text, 'irc_supervisor_disconnects_total', { reason: 'socket_error' })).toBe(0);
  });
});

describe('disconnectReason', () => {
  const failed = (message: string) => ({ message });

  it.each([
    ['socket.registered', failed('read ECONNRESET'), 'socket_error'],
    ['socket.connecting', failed('connect ECONNREFUSED 127.0.0.1:6667'), 'socket_error'],
    ['socket.registered', failed('could not send JOIN: write EPIPE'), 'socket_error'],
    ['socket.registered', failed('client failed: boom'), 'socket_error'],
    ['socket.registered', failed('banned by the server (465): You are banned'), 'socket_error'],
    ['socket.registered', failed('Ping timeout (60000 ms)'), 'ping_timeout'],
    ['socket.registered', failed(SERVER_CLOSED_REASON), 'server_closed'],
    ['socket.registered', failed('ERROR :Closing Link: supervisor[127.0.0.1] (Server shutting down)'), 'server_closed'],
    ['socket.connecting', failed('Registration timeout (30000 ms)'), 'registration_timeout'],
    ['socket.disconnecting', failed(SERVER_CLOSED_REASON), 'quit'],
    ['socket.disconnecting', undefined, 'quit'],
    // our STOP or new settings before registration: the step that ended the socket recorded no failure
    ['socket.connecting', undefined, 'quit'],
  ] as const)('from %s with %o is %s', (from, failure, reason) => {
    expect(disconnectReason(from, failure)).toBe(reason);
  });
});
