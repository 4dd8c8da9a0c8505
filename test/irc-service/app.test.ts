import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientInput } from '../../machines/irc-connection.machine.ts';
import { createIrcServiceApp } from '../../src/irc-service/app.ts';
import { IrcConnectionRegistry, type IrcEventMap } from '../../src/irc-service/irc-connection-registry.ts';
import { listen } from '../../src/process/listen.ts';
import type { IrcEvent } from '../../src/shared/irc-events.ts';
import { connectionsAnswerSchema, ircStatusSchema } from '../../src/shared/irc-service-contract.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'Content-Type': 'application/json' };

/**
 * A client whose server registers it at once and confirms every JOIN; `silent` servers never answer,
 * `refused` ones refuse the socket, `banning` ones refuse the registration for good.
 */
function fakeNetwork(options: { silentHosts?: string[]; refusedHosts?: string[]; banningHosts?: string[] } = {}) {
  const opened: IrcClientInput[] = [];
  const commands: Array<{ serverId: number; command: IrcClientCommand }> = [];
  const logic = fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack, receive }) => {
    opened.push(input);
    receive((command) => {
      commands.push({ serverId: input.serverId, command });
      if (command.type === 'JOIN')
        for (const channel of command.channels) sendBack({ type: 'CHANNEL_JOINED', channel });
      if (command.type === 'QUIT') sendBack({ type: 'CLOSED', reason: 'Closing Link' });
    });
    const { host, port } = input.settings;
    if (options.refusedHosts?.includes(host))
      sendBack({ type: 'CLOSED', reason: `connect ECONNREFUSED ${host}:${port}` });
    else if (options.banningHosts?.includes(host)) {
      sendBack({ type: 'FATAL', reason: 'banned by the server (465)', at: '2026-12-03T07:00:00.000Z' });
    } else if (!options.silentHosts?.includes(host))
      sendBack({ type: 'REGISTERED', nickname: input.settings.nickname });
  });
  return { logic, opened, commands };
}

function buildApp(network = fakeNetwork(), now?: () => number, node?: string) {
  const published: IrcEvent[] = [];
  const events = new EventStream<IrcEventMap>({ heartbeatMs: 0, bootId: 'boot' });
  const registry = new IrcConnectionRegistry({
    clientLogic: network.logic,
    now,
    node,
    timing: { reconnectJitter: 0 },
    onEvent: (event) => {
      published.push(event);
      events.publish(event.type, event.payload as never);
    },
  });
  const app = createIrcServiceApp({ registry, events, token: TOKEN });
  cleanups.push(async () => {
    events.close();
    await registry.stopAll(1_000);
  });
  return { app, registry, events, network, published };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Reads an SSE body until the text so far matches; the stream itself never ends. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, pattern: RegExp): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before ${pattern}:\n${text}`);
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

function put(app: ReturnType<typeof buildApp>['app'], serverId: number | string, body: unknown) {
  return app.request(`/internal/irc/connections/${serverId}`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify(body),
  });
}

function putBatch(app: ReturnType<typeof buildApp>['app'], connections: unknown[]) {
  return app.request('/internal/irc/connections', {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ connections }),
  });
}

const server = { host: 'irc.example.net', port: 6667, nickname: 'supervisor' };

describe('IRC service app', () => {
  it('answers /healthz without a token', async () => {
    const { app } = buildApp();
    const response = await app.request('/healthz');
    expect(response.status).toBe(200);
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { Authorization: 'Bearer wrong-token-0123456789abc' }],
    ['a token of another length', { Authorization: 'Bearer x' }],
    ['a wrong token of the same length', { Authorization: `Bearer ${'x'.repeat(TOKEN.length)}` }],
    ['another scheme', { Authorization: `Basic ${TOKEN}` }],
  ])('refuses /internal/* with %s', async (_label, headers) => {
    const { app } = buildApp();

    for (const [method, path] of [
      ['GET', '/internal/irc/status'],
      ['GET', '/internal/irc/connections'],
      ['PUT', '/internal/irc/connections/1'],
      ['PUT', '/internal/irc/connections'],
      ['DELETE', '/internal/irc/connections/1'],
      ['GET', '/internal/irc/events'],
    ] as const) {
      const response = await app.request(path, { method, headers });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get('WWW-Authenticate')).toBe('Bearer');
      const body = await response.text();
      expect(JSON.parse(body)).toEqual({ error: { message: expect.any(String) } });
      expect(body).not.toContain(TOKEN);
    }
  });

  it('lists the registered connections in ascending order', async () => {
    const { app } = buildApp();
    expect((await put(app, 3, server)).status).toBe(202);
    expect((await put(app, 1, { ...server, nickname: 'other' })).status).toBe(202);

    const response = await app.request('/internal/irc/status', { headers: auth });

    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
    const body = await response.json();
    expect(body).toEqual({ connections: [1, 3] });
    expect(ircStatusSchema.parse(body)).toEqual({ connections: [1, 3] });
  });

  it('names its node beside the connections, so a web side can tell which node answered', async () => {
    const { app } = buildApp(fakeNetwork(), undefined, 'node-b');
    expect((await put(app, 2, server)).status).toBe(202);

    const response = await app.request('/internal/irc/status', { headers: auth });

    const body = await response.json();
    expect(body).toEqual({ node: 'node-b', connections: [2] });
    expect(ircStatusSchema.parse(body)).toEqual({ node: 'node-b', connections: [2] });
  });

  it('lists every connection with its state and the reason of its last failure, ascending by server id', async () => {
    const T0 = Date.parse('2026-12-03T07:00:00.000Z');
    const at = new Date(T0).toISOString();
    const network = fakeNetwork({ silentHosts: ['silent.example.net'], refusedHosts: ['10.0.0.9'] });
    const { app } = buildApp(network, () => T0);
    await put(app, 3, server);
    await put(app, 1, { ...server, host: '10.0.0.9', port: 16668 });
    await put(app, 2, { ...server, host: 'silent.example.net' });

    const response = await app.request('/internal/irc/connections', { headers: auth });

    expect(response.status).toBe(200);
    const body = await response.json();
    expect(connectionsAnswerSchema.parse(body)).toEqual(body);
    expect(body).toEqual({
      connections: [
        {
          serverId: 1,
          state: 'reconnecting',
          since: at,
          nickname: null,
          attempt: 1,
          nextAttemptAt: new Date(T0 + 1_000).toISOString(),
          lastError: { message: 'connect ECONNREFUSED 10.0.0.9:16668', at },
        },
        {
          serverId: 2,
          state: 'socket.connecting',
          since: at,
          nickname: null,
          attempt: 0,
          nextAttemptAt: null,
          lastError: null,
        },
        {
          serverId: 3,
          state: 'socket.registered',
          since: at,
          nickname: 'supervisor',
          attempt: 0,
          nextAttemptAt: null,
          lastError: null,
        },
      ],
    });
  });

  it('lists no connection when it holds none, and none once the last is deleted', async () => {
    const { app, registry } = buildApp();
    const list = async () => (await app.request('/internal/irc/connections', { headers: auth })).json();
    expect(await list()).toEqual({ connections: [] });
    await put(app, 1, server);
    await app.request('/internal/irc/connections/1', { method: 'DELETE', headers: auth });

    expect(registry.has(1)).toBe(false);
    expect(await list()).toEqual({ connections: [] });
  });

  it('keeps the status bytes through state changes that leave registration as it is', async () => {
    const { app, registry, published } = buildApp(fakeNetwork({ silentHosts: ['silent.example.net'] }));
    await put(app, 1, server);
    const cached = registry.statusBytes();
    const before = published.length;

    await put(app, 2, { ...server, host: 'silent.example.net' });
    await put(app, 2, { ...server, host: 'silent.example.net', port: 6697 });

    expect(published.slice(before).filter((event) => event.type === 'connection-state')).toHaveLength(2);
    expect(registry.statusBytes()).toBe(cached);
  });

  it('leaves a connection that has not registered out of the status', async () => {
    const { app, registry } = buildApp(fakeNetwork({ silentHosts: ['silent.example.net'] }));
    await put(app, 1, server);
    await put(app, 2, { ...server, host: 'silent.example.net' });

    const response = await app.request('/internal/irc/status', { headers: auth });

    expect(await response.json()).toEqual({ connections: [1] });
    expect(registry.has(2)).toBe(true);
  });

  it('serves the cached status body until a connection enters or leaves registered', async () => {
    const { app, registry } = buildApp();
    await put(app, 5, server);
    const first = registry.statusJson();
    expect(registry.statusJson()).toBe(first);

    await app.request('/internal/irc/connections/5', { method: 'DELETE', headers: auth });

    expect(registry.statusJson()).toBe('{"connections":[]}');
  });

  it('lists failed connections in the status, rebuilding the cached body only when that set changes', async () => {
    const { app, registry, network } = buildApp(fakeNetwork({ banningHosts: ['banned.example'] }));
    await put(app, 2, server);
    await put(app, 9, { ...server, host: 'banned.example' });
    const first = registry.statusBytes();

    const status = await app.request('/internal/irc/status', { headers: auth });

    expect(await status.json()).toEqual({ connections: [2], failed: [9] });
    expect(registry.statusBytes()).toBe(first);
    // an operator's Connect: once more, and it fails again; no reconnect of its own in between
    const retried = await put(app, 9, { ...server, host: 'banned.example' });
    expect(await retried.json()).toEqual({ serverId: 9, outcome: 'retried' });
    expect(network.opened.filter((input) => input.serverId === 9)).toHaveLength(2);
    expect(registry.statusJson()).toBe('{"connections":[2],"failed":[9]}');

    await app.request('/internal/irc/connections/9', { method: 'DELETE', headers: auth });

    expect(registry.statusJson()).toBe('{"connections":[2]}');
  });

  it('does nothing on a repeated PUT with the same settings', async () => {
    const { app, network, published } = buildApp();
    const first = await put(app, 1, { ...server, channels: ['#Alpha'] });
    const second = await put(app, 1, { ...server, channels: ['#alpha'] });

    expect(await first.json()).toEqual({ serverId: 1, outcome: 'started' });
    expect(second.status).toBe(202);
    expect(await second.json()).toEqual({ serverId: 1, outcome: 'unchanged' });
    expect(network.opened).toHaveLength(1);
    expect(published.filter((event) => event.type === 'connected')).toHaveLength(1);
  });

  it('reconnects with new settings on a PUT that changes them', async () => {
    const { app, network } = buildApp();
    await put(app, 1, server);

    const response = await put(app, 1, { ...server, port: 6697, tls: true });

    expect(await response.json()).toEqual({ serverId: 1, outcome: 'reconfigured' });
    expect(network.commands).toContainEqual({ serverId: 1, command: { type: 'QUIT', message: expect.any(String) } });
    expect(network.opened.map((input) => [input.settings.port, input.settings.tls])).toEqual([
      [6667, false],
      [6697, true],
    ]);
  });

  it('names the field of a bad body', async () => {
    const { app } = buildApp();
    const cases: Array<[unknown, string]> = [
      [{ ...server, port: 'x' }, 'port'],
      [{ ...server, port: 70_000 }, 'port'],
      [{ port: 6667, nickname: 'n' }, 'host'],
      [{ ...server, nickname: 'bad nick' }, 'nickname'],
      [{ ...server, password: 'secret\r\nQUIT' }, 'password'],
      [{ ...server, channels: ['#ok', 'no-prefix'] }, 'channels.1'],
      [{ ...server, tls: 'yes' }, 'tls'],
      [{ ...server, tls: true, sasl: { mechanism: 'EXTERNAL' } }, 'sasl'],
      [{ ...server, tls: true, sasl: { mechanism: 'SCRAM' } }, 'sasl.mechanism'],
      [{ ...server, tls: true, tlsFingerprint: 'abcd' }, 'tlsFingerprint'],
      [{ ...server, tls: false, tlsFingerprint: 'ab'.repeat(32) }, 'tlsFingerprint'],
      [
        { ...server, tls: true, clientKey: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----' },
        'clientCertificate',
      ],
    ];
    for (const [body, field] of cases) {
      const response = await put(app, 1, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const answer = await response.json();
      expect(answer, JSON.stringify(body)).toMatchObject({ error: { field, message: expect.stringContaining(field) } });
    }
  });

  it('hands many connections over in one batch PUT, each answered as the single PUT would answer it', async () => {
    const { app, registry, network } = buildApp();
    await put(app, 2, server);

    const response = await putBatch(app, [
      { serverId: 1, ...server, channels: ['#a'] },
      { serverId: 2, ...server },
      { serverId: 3, ...server, nickname: 'bad nick' },
      { serverId: 4, ...server, port: 6697, tls: true, password: 'hunter2-secret\n' },
    ]);

    expect(response.status).toBe(202);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      connections: [
        { serverId: 1, outcome: 'started' },
        { serverId: 2, outcome: 'unchanged' },
        { serverId: 3, error: { field: 'nickname', message: expect.stringContaining('nickname') } },
        { serverId: 4, error: { field: 'password', message: expect.stringContaining('password') } },
      ],
    });
    // the bad entries start nothing, the good ones do not wait for them; no secret comes back
    expect(text).not.toContain('hunter2');
    expect([1, 2, 3, 4].map((id) => registry.has(id))).toEqual([true, true, false, false]);
    expect(network.opened.map((input) => input.serverId)).toEqual([2, 1]);
  });

  it('answers 503 to PUTs once it is shutting down, single or batch, and starts nothing', async () => {
    const { app, registry, network } = buildApp();
    const stopping = registry.stopAll(1_000);

    const single = await put(app, 1, server);
    const batch = await putBatch(app, [{ serverId: 2, ...server }]);
    await stopping;

    expect([single.status, batch.status]).toEqual([503, 503]);
    expect(await single.json()).toEqual({ error: { message: expect.stringContaining('shutting down') } });
    expect(network.opened).toEqual([]);
  });

  it('refuses a batch whose envelope is wrong, naming the field, and starts nothing', async () => {
    const { app, registry } = buildApp();
    const cases: Array<[unknown, string]> = [
      [{}, 'connections'],
      [{ connections: [] }, 'connections'],
      [{ connections: [{ ...server }] }, 'connections.0.serverId'],
      [{ connections: [{ ...server, serverId: 0 }] }, 'connections.0.serverId'],
      [{ connections: Array.from({ length: 501 }, (_, index) => ({ ...server, serverId: index + 1 })) }, 'connections'],
      [{ connections: [{ ...server, serverId: 1 }], more: true }, 'more'],
    ];
    for (const [body, field] of cases) {
      const response = await app.request('/internal/irc/connections', {
        method: 'PUT',
        headers: json,
        body: JSON.stringify(body),
      });
      expect(response.status, field).toBe(400);
      expect(await response.json(), field).toMatchObject({ error: { field } });
    }
    expect(registry.has(1)).toBe(false);
  });

  it('never echoes a password in an error body', async () => {
    const { app } = buildApp();
    const response = await put(app, 1, { ...server, password: 'hunter2-secret\n' });
    expect(response.status).toBe(400);
    expect(await response.text()).not.toContain('hunter2');
  });

  it('never echoes a SASL password or a client key in an error body', async () => {
    const { app } = buildApp();
    const response = await put(app, 1, {
      ...server,
      tls: true,
      clientKey: '-----BEGIN PRIVATE KEY-----\nkeysecret\n-----END PRIVATE KEY-----',
      sasl: { mechanism: 'PLAIN', account: 'me', password: 'sasl-hunter2\n' },
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toContain('sasl-hunter2');
    expect(text).not.toContain('keysecret');
  });

  it('refuses a body that is not JSON', async () => {
    const { app } = buildApp();
    const response = await app.request('/internal/irc/connections/1', { method: 'PUT', headers: json, body: '{' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { field: 'body' } });
  });

  it.each(['0', '-1', 'abc', '1.5', '99999999999'])('refuses the server id %s', async (serverId) => {
    const { app } = buildApp();
    const response = await put(app, serverId, server);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { field: 'serverId' } });
  });

  it('answers 404 for a connection it does not have', async () => {
    const { app } = buildApp();
    const responses = await Promise.all([
      app.request('/internal/irc/connections/9', { method: 'DELETE', headers: auth }),
      app.request('/internal/irc/connections/9/channels', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: '#alpha' }),
      }),
      app.request('/internal/irc/connections/9/channels/%23alpha', { method: 'DELETE', headers: auth }),
      app.request('/internal/irc/nothing-here', { headers: auth }),
    ]);
    expect(responses.map((response) => response.status)).toEqual([404, 404, 404, 404]);
  });

  it('sends QUIT on DELETE and forgets the connection', async () => {
    const { app, registry, network, published } = buildApp();
    await put(app, 4, server);

    const response = await app.request('/internal/irc/connections/4', { method: 'DELETE', headers: auth });

    expect(response.status).toBe(202);
    expect(network.commands).toContainEqual({ serverId: 4, command: { type: 'QUIT', message: expect.any(String) } });
    expect(registry.has(4)).toBe(false);
    expect(published.filter((event) => event.type === 'disconnected')).toEqual([
      { type: 'disconnected', payload: { serverId: 4, reason: 'disconnect requested' } },
    ]);
    expect(published.at(-1)).toMatchObject({ type: 'connection-state', payload: { serverId: 4, state: 'stopped' } });
  });

  it('joins and parts channels', async () => {
    const { app, network, published } = buildApp();
    await put(app, 2, server);

    const joined = await app.request('/internal/irc/connections/2/channels', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: '#Alpha' }),
    });
    const parted = await app.request('/internal/irc/connections/2/channels/%23alpha', {
      method: 'DELETE',
      headers: auth,
    });
    const bad = await app.request('/internal/irc/connections/2/channels', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'alpha' }),
    });

    expect([joined.status, parted.status, bad.status]).toEqual([202, 202, 400]);
    expect(await bad.json()).toMatchObject({ error: { field: 'name' } });
    expect(network.commands.map((entry) => entry.command)).toEqual([
      { type: 'JOIN', channels: [] },
      { type: 'JOIN', channels: ['#alpha'] },
      { type: 'PART', channel: '#alpha' },
    ]);
    expect(published.find((event) => event.type === 'joined')).toEqual({
      type: 'joined',
      payload: { serverId: 2, channel: '#alpha' },
    });
  });

  it('resync: registered connections announce themselves, their channels, and ask the network for names', async () => {
    const { app, network, published } = buildApp(fakeNetwork({ silentHosts: ['silent.example'] }));
    await put(app, 2, { ...server, channels: ['#a', '#b'] });
    await put(app, 3, { ...server, host: 'silent.example' });
    await put(app, 4, server);
    published.length = 0;
    network.commands.length = 0;

    const all = await app.request('/internal/irc/resync', { method: 'POST', headers: json, body: '{}' });
    const some = await app.request('/internal/irc/resync', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ serverIds: [2, 3, 99] }),
    });
    const bad = await app.request('/internal/irc/resync', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ serverIds: ['x'] }),
    });

    expect(await all.json()).toEqual({ serverIds: [2, 4] });
    expect(await some.json()).toEqual({ serverIds: [2] });
    expect(bad.status).toBe(400);
    expect(published.filter((event) => event.payload.serverId === 2).map((event) => event.type)).toEqual([
      'connected',
      'joined',
      'joined',
      'connected',
      'joined',
      'joined',
    ]);
    expect(network.commands.filter((entry) => entry.serverId === 2).map((entry) => entry.command)).toEqual([
      { type: 'NAMES', channels: ['#a', '#b'] },
      { type: 'NAMES', channels: ['#a', '#b'] },
    ]);
  });

  it('streams connection events as SSE with ids, replaying from Last-Event-ID', async () => {
    const { app, published } = buildApp();
    await put(app, 1, server);
    await put(app, 2, { ...server, nickname: 'second' });
    // ids count the events published: `boot-<n>` is the n-th
    const idOf = (serverId: number) =>
      `boot-${published.findIndex((event) => event.type === 'connected' && event.payload.serverId === serverId) + 1}`;

    const response = await app.request('/internal/irc/events', {
      headers: { ...auth, 'Last-Event-ID': idOf(1) },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const replayed = await readUntil(reader, /event: connected\ndata: .*"second"/);
    await put(app, 3, { ...server, nickname: 'third' });
    const live = await readUntil(reader, /event: connected\ndata: .*"third"/);
    await reader.cancel();

    expect(replayed).toContain(`id: ${idOf(2)}\nevent: connected\ndata: {"serverId":2,"nickname":"second"}`);
    expect(replayed).not.toContain(`id: ${idOf(1)}\n`);
    expect(replayed).not.toContain('"serverId":1');
    expect(live).toContain(`id: ${idOf(3)}\nevent: connected\ndata: {"serverId":3,"nickname":"third"}`);
  });
});

describe('IRC service app, served by @hono/node-server', () => {
  async function served() {
    const built = buildApp();
    const server = await listen(serve, built.app, '127.0.0.1', 0);
    cleanups.push(() => server.close());
    return { ...built, url: server.url };
  }

  /** A connection request padded with channels to about `bytes`. */
  function requestOf(bytes: number) {
    // each channel is 23 bytes of JSON: quotes, a comma and a 20-character name
    const channels = Array.from({ length: Math.ceil(bytes / 23) }, (_, index) => `#${String(index).padStart(19, '0')}`);
    return JSON.stringify({ ...server, channels });
  }

  it('reads a body of declared length and starts the connection', async () => {
    const { url, registry } = await served();

    const response = await fetch(`${url}/internal/irc/connections/5`, {
      method: 'PUT',
      headers: json,
      body: requestOf(100),
    });

    expect(response.status).toBe(202);
    expect(registry.has(5)).toBe(true);
  });

  it('reads a batch past 256 KiB in all (a hand-over of many), and refuses one past 64 times that', async () => {
    const { url, registry } = await served();
    const send = (connections: unknown[]) =>
      fetch(`${url}/internal/irc/connections`, { method: 'PUT', headers: json, body: JSON.stringify({ connections }) });
    // 1,000 channels each (the most one request may want), about 23 KiB
    const ids = Array.from({ length: 15 }, (_, index) => 100 + index);
    const large = ids.map((serverId) => ({ ...JSON.parse(requestOf(22_000)), serverId }));

    const accepted = await send(large);
    const refused = await send(
      Array.from({ length: 65 }, (_, index) => ({ ...server, serverId: index + 1, pad: 'x'.repeat(256 * 1024) })),
    );

    expect(JSON.stringify({ connections: large }).length).toBeGreaterThan(256 * 1024);
    expect(accepted.status).toBe(202);
    expect(ids.every((id) => registry.has(id))).toBe(true);
    expect(refused.status).toBe(413);
    expect(registry.has(1)).toBe(false);
  });

  it('refuses a body over 256 KiB with 413, declared or chunked, and starts nothing', async () => {
    const { url, registry } = await served();
    const body = requestOf(300 * 1024);

    const declared = await fetch(`${url}/internal/irc/connections/6`, { method: 'PUT', headers: json, body });
    const chunks = new TextEncoder().encode(body);
    const chunked = await fetch(`${url}/internal/irc/connections/7`, {
      method: 'PUT',
      headers: json,
      body: new ReadableStream({
        start(controller) {
          for (let at = 0; at < chunks.length; at += 16 * 1024) controller.enqueue(chunks.slice(at, at + 16 * 1024));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);

    expect(body.length).toBeGreaterThan(256 * 1024);
    expect([declared.status, chunked.status]).toEqual([413, 413]);
    expect(await declared.json()).toMatchObject({ error: { message: 'body: too large' } });
    expect([registry.has(6), registry.has(7)]).toEqual([false, false]);
  });
});
