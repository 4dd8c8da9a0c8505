import { Hono } from 'hono';
import { HttpResponse, http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { serversRoutes } from '../../src/web/servers/servers.routes.ts';
import { WantedConnections } from '../../src/web/servers/wanted-connections.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { IRC_SERVICE_URL, insertServer, recordingPublisher, serverPicture, TOKEN } from './fixtures.ts';

const CONNECTIONS = `${IRC_SERVICE_URL}/internal/irc/connections/:serverId`;

describe('servers API', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let close: () => Promise<void>;
  let app: Hono;
  let events: ReturnType<typeof recordingPublisher>;
  let reconciler: WantedConnections;

  beforeAll(async () => {
    ({ db, orm, close } = await createTestOrm());
    events = recordingPublisher();
    const ircService = new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 2_000 });
    reconciler = new WantedConnections({ orm, ircService, events, staggerMs: 0 });
    app = new Hono().route('/api/servers', serversRoutes({ orm, ircService, events, reconciler }));
  });
  // the IRC service is asked after the answer: let those calls end before the test's handlers go
  afterEach(() => reconciler.settled());
  afterAll(() => close());

  const json = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });

  const ircServiceDown = (method: 'put' | 'delete' | 'post', path = CONNECTIONS) =>
    mswServer.use(http[method](path, () => HttpResponse.error()));

  async function autoconnect(serverId: number): Promise<boolean> {
    const [row] = await db.query<{ autoconnect: boolean }>('select autoconnect from servers where id = $1', [serverId]);
    return row!.autoconnect;
  }

  async function view(serverId: number) {
    return (await app.request(`/api/servers/${serverId}`)).json();
  }

  /**
   * What the database looks like while the IRC service is being asked, seen from a connection of its own: no
   * session of the test database sits in an open transaction, and the server's row is not locked.
   */
  async function openTransactions(serverId: number): Promise<{ idleInTransaction: number; rowLockFree: boolean }> {
    const [row] = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where datname = $1 and state like 'idle in transaction%'`,
      [db.name],
    );
    const rowLockFree = await db
      .query('select id from servers where id = $1 for update nowait', [serverId])
      .then(() => true)
      .catch(() => false);
    return { idleInTransaction: row!.n, rowLockFree };
  }

  describe('create, read, update, delete', () => {
    it('creates a server with defaults and never shows its password', async () => {
      const response = await json('POST', '/api/servers', {
        name: 'Libera',
        host: 'irc.libera.chat',
        port: 6697,
        nickname: 'watcher',
        password: 'hunter2-secret',
      });

      expect(response.status).toBe(201);
      const body = await response.json();
      expect(body).toMatchObject({
        name: 'Libera',
        host: 'irc.libera.chat',
        port: 6697,
        tls: false,
        autoconnect: false,
        connected: false,
        connectedAt: null,
        hasPassword: true,
        channels: [],
      });
      expect(JSON.stringify(body)).not.toContain('hunter2-secret');
      const listed = await (await app.request('/api/servers')).json();
      expect(listed.servers.map((server: { id: number }) => server.id)).toContain(body.id);
      expect(await (await app.request(`/api/servers/${body.id}`)).json()).toEqual(body);
    });

    it('lists servers with their channels, joined state and user counts', async () => {
      const serverId = await insertServer(db, {
        channels: [
          { name: '#a', users: ['alice', 'bob'] },
          { name: '#b', joined: false },
        ],
      });

      const { servers } = await (await app.request('/api/servers')).json();

      expect(servers.find((server: { id: number }) => server.id === serverId)).toMatchObject({
        connected: true,
        channels: [
          { name: '#a', joined: true, userCount: 2 },
          { name: '#b', joined: false, userCount: 0 },
        ],
      });
    });

    it('lists with the id of the newest browser event the list reflects', async () => {
      events.publish('server-removed', { serverId: 424_242 });

      const listed = await (await app.request('/api/servers')).json();

      expect(listed.eventId).toBe(events.position);
    });

    it.each([
      [{ name: 'x', host: 'h', port: 70_000, nickname: 'n' }, 'port'],
      [{ name: 'x', host: 'h', port: 6667, nickname: '1nick' }, 'nickname'],
      [{ name: 'x', host: 'bad host!', port: 6667, nickname: 'n' }, 'host'],
      [{ host: 'h', port: 6667, nickname: 'n' }, 'name'],
      [{ name: 'x', host: 'h', port: 6667, nickname: 'n', admin: true }, 'admin'],
      [{ name: 'x', host: 'h', port: '6667', nickname: 'n' }, 'port'],
      [{ name: 'x', host: 'h', port: 6667, nickname: 'n', '': {} }, '""'],
    ])('refuses %o with a 400 naming %s, writing nothing', async (input, field) => {
      const before = await db.query('select count(*)::int as n from servers');

      const response = await json('POST', '/api/servers', input);

      expect(response.status).toBe(400);
      expect((await response.json()).error).toMatchObject({ field });
      expect(await db.query('select count(*)::int as n from servers')).toEqual(before);
    });

    it('refuses a body that is not JSON', async () => {
      const response = await json('POST', '/api/servers', '{"name":');

      expect(response.status).toBe(400);
      expect((await response.json()).error.field).toBe('body');
    });

    it('answers 400 for a malformed id and 404 for an unknown one', async () => {
      const malformed = await app.request('/api/servers/abc');
      const unknown = await app.request('/api/servers/999999');

      expect(malformed.status).toBe(400);
      expect((await malformed.json()).error.field).toBe('id');
      expect(unknown.status).toBe(404);
      expect((await json('PATCH', '/api/servers/999999', { name: 'x' })).status).toBe(404);
      expect((await json('DELETE', '/api/servers/999999')).status).toBe(404);
    });

    it('updates a disconnected server without asking the IRC service', async () => {
      const serverId = await insertServer(db, { connectedAt: null });

      const response = await json('PATCH', `/api/servers/${serverId}`, { name: 'Renamed', port: 6667 });

      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ name: 'Renamed', port: 6667, autoconnect: false });
    });

    it('a wanted server follows its new settings; with the IRC service down they are saved anyway and pending', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a' }] });
      await db.query('update servers set autoconnect = true where id = $1', [serverId]);
      const received: unknown[] = [];
      mswServer.use(
        http.put(CONNECTIONS, async ({ request }) => {
          received.push(await request.json());
          return new HttpResponse(null, { status: 202 });
        }),
      );

      const moved = await json('PATCH', `/api/servers/${serverId}`, { host: 'irc.new.example', port: 6697 });
      await reconciler.settled();

      expect(moved.status).toBe(200);
      expect(await moved.json()).toMatchObject({ host: 'irc.new.example', pending: null });
      expect(received).toEqual([expect.objectContaining({ host: 'irc.new.example', port: 6697, channels: ['#a'] })]);

      ircServiceDown('put');
      const saved = await json('PATCH', `/api/servers/${serverId}`, { host: 'irc.other.example' });
      await reconciler.settled();

      expect(saved.status).toBe(200);
      expect(await view(serverId)).toMatchObject({
        host: 'irc.other.example',
        pending: { since: expect.any(String), reason: expect.stringMatching(/IRC service is unreachable/) },
      });
    });

    it('a PATCH of autoconnect is a connect or a disconnect', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      const requests: string[] = [];
      mswServer.use(
        http.put(CONNECTIONS, () => {
          requests.push('PUT');
          return new HttpResponse(null, { status: 202 });
        }),
        http.delete(CONNECTIONS, () => {
          requests.push('DELETE');
          return new HttpResponse(null, { status: 202 });
        }),
      );

      expect((await json('PATCH', `/api/servers/${serverId}`, { autoconnect: true })).status).toBe(200);
      await reconciler.settled();
      expect((await json('PATCH', `/api/servers/${serverId}`, { autoconnect: false })).status).toBe(200);
      await reconciler.settled();

      expect(requests).toEqual(['PUT', 'DELETE']);
    });

    it('deletes a server with its channels and users, and tells browsers', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      mswServer.use(http.delete(CONNECTIONS, () => new HttpResponse(null, { status: 202 })));

      const response = await json('DELETE', `/api/servers/${serverId}`);

      expect(response.status).toBe(204);
      expect(await db.query('select id from channels where server_id = $1', [serverId])).toEqual([]);
      expect(events.events).toContainEqual({ type: 'server-removed', payload: { serverId } });
    });

    it('deletes a server even when the IRC service is down (the next check closes its connection)', async () => {
      const serverId = await insertServer(db);
      ircServiceDown('delete');

      expect((await json('DELETE', `/api/servers/${serverId}`)).status).toBe(204);
      expect(await db.query('select id from servers where id = $1', [serverId])).toEqual([]);
    });
  });

  describe('connect and disconnect', () => {
    it('connect commits the wish, answers 202, then asks the IRC service with the settings and channels', async () => {
      const serverId = await insertServer(db, {
        connectedAt: null,
        channels: [{ name: '#b', joined: false }, { name: '#parted' }],
      });
      await db.query(`update channels set wanted = false where name = '#parted' and server_id = $1`, [serverId]);
      const received: unknown[] = [];
      mswServer.use(
        http.put(CONNECTIONS, async ({ request, params }) => {
          received.push({ id: params.serverId, body: await request.json() });
          return new HttpResponse(null, { status: 202 });
        }),
      );

      const response = await json('POST', `/api/servers/${serverId}/connect`);
      await reconciler.settled();

      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ autoconnect: true, connected: false, pending: null });
      expect(received).toEqual([
        {
          id: String(serverId),
          body: { host: 'irc.example', port: 6697, tls: false, nickname: 'me', channels: ['#b'] },
        },
      ]);
      expect(await autoconnect(serverId)).toBe(true);
    });

    it("connect of a failed server is the operator's retry: the failure is cleared, shown, and the IRC service asked", async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      await db.query(
        `update servers set autoconnect = true, failure_reason = 'banned by the server (465)', failed_at = now() where id = $1`,
        [serverId],
      );
      const asked: string[] = [];
      mswServer.use(
        http.put(CONNECTIONS, ({ params }) => {
          asked.push(String(params.serverId));
          return HttpResponse.json({ serverId, outcome: 'retried' }, { status: 202 });
        }),
      );
      expect((await view(serverId)).failure).toEqual({ message: 'banned by the server (465)', at: expect.any(String) });

      const response = await json('POST', `/api/servers/${serverId}/connect`);
      await reconciler.settled();

      expect(await response.json()).toMatchObject({ autoconnect: true, failure: null });
      expect(asked).toEqual([String(serverId)]);
      expect(events.events).toContainEqual({
        type: 'server-status',
        payload: { serverId, connected: false, connectedAt: null, failure: null },
      });
    });

    it('asks the IRC service with no transaction open and no row locked', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      const seen: unknown[] = [];
      mswServer.use(
        http.put(CONNECTIONS, async () => {
          seen.push(await openTransactions(serverId));
          return new HttpResponse(null, { status: 202 });
        }),
        http.delete(CONNECTIONS, async () => {
          seen.push(await openTransactions(serverId));
          return new HttpResponse(null, { status: 202 });
        }),
      );

      expect((await json('POST', `/api/servers/${serverId}/connect`)).status).toBe(202);
      await reconciler.settled();
      expect((await json('PATCH', `/api/servers/${serverId}`, { nickname: 'renamed' })).status).toBe(200);
      await reconciler.settled();
      expect((await json('POST', `/api/servers/${serverId}/disconnect`)).status).toBe(202);
      await reconciler.settled();

      expect(seen).toEqual([
        { idleInTransaction: 0, rowLockFree: true },
        { idleInTransaction: 0, rowLockFree: true },
        { idleInTransaction: 0, rowLockFree: true },
      ]);
    });

    it('connect answers 202 and keeps the wish when the IRC service is unreachable; the server shows it pending', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      ircServiceDown('put');

      const response = await json('POST', `/api/servers/${serverId}/connect`);
      await reconciler.settled();

      expect(response.status).toBe(202);
      expect(await autoconnect(serverId)).toBe(true);
      const { servers } = await (await app.request('/api/servers')).json();
      expect(servers.find((server: { id: number }) => server.id === serverId)).toMatchObject({
        autoconnect: true,
        connected: false,
        pending: { since: expect.any(String), reason: 'the IRC service is unreachable' },
      });
      expect(events.events).toContainEqual({
        type: 'server-status',
        payload: expect.objectContaining({
          serverId,
          pending: expect.objectContaining({ reason: expect.any(String) }),
        }),
      });

      // passed on once the IRC service is back: no longer pending
      mswServer.use(http.put(CONNECTIONS, () => new HttpResponse(null, { status: 202 })));
      await reconciler.converge(serverId, { server: 'sync' });
      expect((await view(serverId)).pending).toBeNull();
    });

    it('answers at once while the IRC service hangs', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      let release: (() => void) | undefined;
      const hung = new Promise<void>((resolve) => {
        release = resolve;
      });
      mswServer.use(
        http.put(CONNECTIONS, async () => {
          await hung;
          return new HttpResponse(null, { status: 202 });
        }),
      );

      const started = performance.now();
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => json('POST', `/api/servers/${serverId}/connect`)),
      );
      const elapsed = performance.now() - started;
      const listed = await app.request('/api/servers');

      expect(responses.map((response) => response.status)).toEqual(Array(20).fill(202));
      expect(listed.status).toBe(200);
      expect(elapsed).toBeLessThan(1_500);
      release?.();
    });

    it('disconnect asks the IRC service, clears the wish and shows the server disconnected once it is let go', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      await db.query('update servers set autoconnect = true where id = $1', [serverId]);
      mswServer.use(http.delete(CONNECTIONS, () => new HttpResponse(null, { status: 202 })));

      const response = await json('POST', `/api/servers/${serverId}/disconnect`);
      await reconciler.settled();

      expect(response.status).toBe(202);
      expect(await autoconnect(serverId)).toBe(false);
      expect(await serverPicture(db, serverId)).toMatchObject({ connected: false, joinedChannels: 0, channelUsers: 0 });
      expect(events.events).toContainEqual({
        type: 'server-status',
        payload: { serverId, connected: false, connectedAt: null },
      });
    });

    it('disconnect of a server the IRC service does not hold still succeeds', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      await db.query('update servers set autoconnect = true where id = $1', [serverId]);
      mswServer.use(http.delete(CONNECTIONS, () => HttpResponse.json({ error: { message: 'no' } }, { status: 404 })));

      expect((await json('POST', `/api/servers/${serverId}/disconnect`)).status).toBe(202);
      await reconciler.settled();
      expect(await autoconnect(serverId)).toBe(false);
      expect((await view(serverId)).pending).toBeNull();
    });

    it('disconnect answers 202 and keeps the wish when the IRC service is unreachable', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      await db.query('update servers set autoconnect = true where id = $1', [serverId]);
      ircServiceDown('delete');

      expect((await json('POST', `/api/servers/${serverId}/disconnect`)).status).toBe(202);
      await reconciler.settled();

      expect(await autoconnect(serverId)).toBe(false);
      // what is observed stays until the IRC service says otherwise (or a check finds it unreachable)
      expect(await serverPicture(db, serverId)).toMatchObject({ connected: true, channelUsers: 1 });
      expect((await view(serverId)).pending).toMatchObject({ reason: 'the IRC service is unreachable' });
    });

    it('a wish overtaken before the IRC service answered converges to the last one', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      const requests: string[] = [];
      let release: (() => void) | undefined;
      mswServer.use(
        http.put(CONNECTIONS, async () => {
          requests.push('PUT');
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          return new HttpResponse(null, { status: 202 });
        }),
        http.delete(CONNECTIONS, () => {
          requests.push('DELETE');
          return new HttpResponse(null, { status: 202 });
        }),
      );

      expect((await json('POST', `/api/servers/${serverId}/connect`)).status).toBe(202);
      await expect.poll(() => release).toBeTypeOf('function');
      // the operator changes their mind while the connect is on its way, twice
      expect((await json('POST', `/api/servers/${serverId}/disconnect`)).status).toBe(202);
      expect((await json('POST', `/api/servers/${serverId}/connect`)).status).toBe(202);
      expect((await json('POST', `/api/servers/${serverId}/disconnect`)).status).toBe(202);
      release?.();
      await reconciler.settled();

      // the wishes in between were merged: one more call, for the last one
      expect(requests).toEqual(['PUT', 'DELETE']);
      expect(await autoconnect(serverId)).toBe(false);
    });
  });

  describe('join and part a channel', () => {
    const CHANNELS = `${CONNECTIONS}/channels`;
    const CHANNEL = `${CONNECTIONS}/channels/:name`;

    it('join on a connected server: records the wish and asks the IRC service to join', async () => {
      const serverId = await insertServer(db);
      const joined: unknown[] = [];
      mswServer.use(
        http.post(CHANNELS, async ({ request }) => {
          joined.push(await request.json());
          return new HttpResponse(null, { status: 202 });
        }),
      );

      const response = await json('POST', `/api/servers/${serverId}/channels`, { name: '#Test' });
      await reconciler.settled();

      expect(response.status).toBe(202);
      expect(joined).toEqual([{ name: '#test' }]);
      expect((await response.json()).channel).toMatchObject({
        name: '#test',
        wanted: true,
        joined: false,
        userCount: 0,
      });
      expect(events.events).toContainEqual({
        type: 'channel',
        payload: { serverId, channelId: expect.any(Number), name: '#test', wanted: true, joined: false, userCount: 0 },
      });
    });

    it('join on a disconnected server: keeps the channel for the next connect without asking the IRC service', async () => {
      const serverId = await insertServer(db, { connectedAt: null });

      const response = await json('POST', `/api/servers/${serverId}/channels`, { name: '#later' });
      await reconciler.settled();

      expect(response.status).toBe(202);
      expect(await db.query('select name, wanted from channels where server_id = $1', [serverId])).toEqual([
        { name: '#later', wanted: true },
      ]);
    });

    it('join on a wanted server not registered yet: the IRC service is told, so its connection joins on registration', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      await db.query('update servers set autoconnect = true where id = $1', [serverId]);
      const joined: unknown[] = [];
      mswServer.use(
        http.post(CHANNELS, async ({ request }) => {
          joined.push(await request.json());
          return new HttpResponse(null, { status: 202 });
        }),
      );

      expect((await json('POST', `/api/servers/${serverId}/channels`, { name: '#soon' })).status).toBe(202);
      await reconciler.settled();

      expect(joined).toEqual([{ name: '#soon' }]);
      expect((await view(serverId)).pending).toBeNull();
    });

    it('join on a wanted server the IRC service holds no connection for: kept for the next connect, nothing pending', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      await db.query('update servers set autoconnect = true where id = $1', [serverId]);
      mswServer.use(
        http.post(CHANNELS, () => HttpResponse.json({ error: { message: 'no connection' } }, { status: 404 })),
      );

      expect((await json('POST', `/api/servers/${serverId}/channels`, { name: '#later' })).status).toBe(202);
      await reconciler.settled();

      expect(await view(serverId)).toMatchObject({ pending: null, channels: [{ name: '#later', wanted: true }] });
    });

    it('join answers 202 and keeps the wish when the IRC service is unreachable', async () => {
      const serverId = await insertServer(db);
      ircServiceDown('post', CHANNELS);

      expect((await json('POST', `/api/servers/${serverId}/channels`, { name: '#x' })).status).toBe(202);
      await reconciler.settled();

      expect(await db.query('select name, wanted, joined from channels where server_id = $1', [serverId])).toEqual([
        { name: '#x', wanted: true, joined: false },
      ]);
      expect((await view(serverId)).pending).toMatchObject({ reason: 'the IRC service is unreachable' });
    });

    it('join of an unknown server answers 404', async () => {
      expect((await json('POST', '/api/servers/999999/channels', { name: '#x' })).status).toBe(404);
    });

    it('part on a connected server: asks the IRC service to part, then the channel is gone', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      const parted: string[] = [];
      mswServer.use(
        http.delete(CHANNEL, ({ params }) => {
          parted.push(String(params.name));
          return new HttpResponse(null, { status: 202 });
        }),
      );

      const response = await json('DELETE', `/api/servers/${serverId}/channels/${encodeURIComponent('#A')}`);

      expect(response.status).toBe(202);
      expect((await response.json()).channel).toMatchObject({ name: '#a', wanted: false, joined: true });
      await reconciler.settled();
      expect(parted).toEqual(['#a']);
      expect(await db.query('select name from channels where server_id = $1', [serverId])).toEqual([]);
      expect(events.events).toContainEqual({
        type: 'channel-removed',
        payload: { serverId, channelId: expect.any(Number) },
      });
    });

    it('part on a disconnected server: the channel goes without asking the IRC service', async () => {
      const serverId = await insertServer(db, { connectedAt: null, channels: [{ name: '#a', joined: false }] });

      expect((await json('DELETE', `/api/servers/${serverId}/channels/${encodeURIComponent('#a')}`)).status).toBe(202);
      await reconciler.settled();

      expect(await db.query('select name from channels where server_id = $1', [serverId])).toEqual([]);
    });

    it('part on a wanted server not registered yet: the IRC service is told, so its connection does not join it', async () => {
      const serverId = await insertServer(db, { connectedAt: null, channels: [{ name: '#a', joined: false }] });
      await db.query('update servers set autoconnect = true where id = $1', [serverId]);
      const parted: string[] = [];
      mswServer.use(
        http.delete(CHANNEL, ({ params }) => {
          parted.push(String(params.name));
          return new HttpResponse(null, { status: 202 });
        }),
      );

      expect((await json('DELETE', `/api/servers/${serverId}/channels/${encodeURIComponent('#a')}`)).status).toBe(202);
      await reconciler.settled();

      expect(parted).toEqual(['#a']);
      expect(await db.query('select name from channels where server_id = $1', [serverId])).toEqual([]);
    });

    it('part answers 202 and keeps the wish when the IRC service is unreachable; a join again overtakes it', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a' }] });
      ircServiceDown('delete', CHANNEL);

      expect((await json('DELETE', `/api/servers/${serverId}/channels/${encodeURIComponent('#a')}`)).status).toBe(202);
      await reconciler.settled();

      expect(await view(serverId)).toMatchObject({
        pending: { reason: 'the IRC service is unreachable' },
        channels: [{ name: '#a', wanted: false, joined: true }],
      });

      mswServer.use(http.post(CHANNELS, () => new HttpResponse(null, { status: 202 })));
      expect((await json('POST', `/api/servers/${serverId}/channels`, { name: '#a' })).status).toBe(202);
      await reconciler.settled();
      expect((await view(serverId)).channels).toEqual([expect.objectContaining({ name: '#a', wanted: true })]);
    });

    it('part answers 404 for an unknown server or channel and 400 for a bad name', async () => {
      const serverId = await insertServer(db);

      expect((await json('DELETE', `/api/servers/999999/channels/${encodeURIComponent('#a')}`)).status).toBe(404);
      expect((await json('DELETE', `/api/servers/${serverId}/channels/${encodeURIComponent('#nope')}`)).status).toBe(
        404,
      );
      const bad = await json('DELETE', `/api/servers/${serverId}/channels/nohash`);
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.field).toBe('name');
    });

    it.each([['test'], ['#with space'], ['#a,b'], [`#${'x'.repeat(60)}`]])(
      'refuses the channel name %j',
      async (name) => {
        const serverId = await insertServer(db);

        const response = await json('POST', `/api/servers/${serverId}/channels`, { name });

        expect(response.status).toBe(400);
        expect((await response.json()).error.field).toBe('name');
      },
    );
  });
});
