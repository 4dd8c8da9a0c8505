import { Hono } from 'hono';
import { HttpResponse, http } from 'msw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { serversRoutes } from '../../src/web/servers/servers.routes.ts';
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

  beforeAll(async () => {
    ({ db, orm, close } = await createTestOrm());
    events = recordingPublisher();
    const ircService = new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 2_000 });
    app = new Hono().route('/api/servers', serversRoutes({ orm, ircService, events }));
  });
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

      const response = await json('PATCH', `/api/servers/${serverId}`, { name: 'Renamed', autoconnect: true });

      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ name: 'Renamed', autoconnect: true });
    });

    it('reconnects a live server with its new settings, and keeps the old ones if the IRC service is down', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a' }] });
      const received: unknown[] = [];
      mswServer.use(
        http.put(CONNECTIONS, async ({ request }) => {
          received.push(await request.json());
          return new HttpResponse(null, { status: 202 });
        }),
      );

      const moved = await json('PATCH', `/api/servers/${serverId}`, { host: 'irc.new.example', port: 6697 });

      expect(moved.status).toBe(200);
      expect(received).toEqual([expect.objectContaining({ host: 'irc.new.example', port: 6697, channels: ['#a'] })]);

      ircServiceDown('put');
      const failed = await json('PATCH', `/api/servers/${serverId}`, { host: 'irc.other.example' });

      expect(failed.status).toBe(502);
      expect((await failed.json()).error.message).toMatch(/IRC service/);
      expect((await (await app.request(`/api/servers/${serverId}`)).json()).host).toBe('irc.new.example');
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
    it('connect asks the IRC service with the settings and channels, and remembers the wish', async () => {
      const serverId = await insertServer(db, { connectedAt: null, channels: [{ name: '#b', joined: false }] });
      const received: unknown[] = [];
      mswServer.use(
        http.put(CONNECTIONS, async ({ request, params }) => {
          received.push({ id: params.serverId, body: await request.json() });
          return new HttpResponse(null, { status: 202 });
        }),
      );

      const response = await json('POST', `/api/servers/${serverId}/connect`);

      expect(response.status).toBe(202);
      expect(received).toEqual([
        {
          id: String(serverId),
          body: { host: 'irc.example', port: 6697, tls: false, nickname: 'me', channels: ['#b'] },
        },
      ]);
      expect(await autoconnect(serverId)).toBe(true);
    });

    it('connect answers 502 and remembers nothing when the IRC service is unreachable', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      ircServiceDown('put');

      const response = await json('POST', `/api/servers/${serverId}/connect`);

      expect(response.status).toBe(502);
      expect((await response.json()).error.message).toMatch(/IRC service could not be reached/);
      expect(await autoconnect(serverId)).toBe(false);
    });

    it('disconnect asks the IRC service, clears the wish and shows the server disconnected at once', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      await db.query('update servers set autoconnect = true where id = $1', [serverId]);
      mswServer.use(http.delete(CONNECTIONS, () => new HttpResponse(null, { status: 202 })));

      const response = await json('POST', `/api/servers/${serverId}/disconnect`);

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
      expect(await autoconnect(serverId)).toBe(false);
    });

    it('disconnect answers 502 and changes nothing when the IRC service is unreachable', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      await db.query('update servers set autoconnect = true where id = $1', [serverId]);
      ircServiceDown('delete');

      expect((await json('POST', `/api/servers/${serverId}/disconnect`)).status).toBe(502);
      expect(await autoconnect(serverId)).toBe(true);
      expect(await serverPicture(db, serverId)).toMatchObject({ connected: true, channelUsers: 1 });
    });
  });

  describe('join a channel', () => {
    const CHANNELS = `${CONNECTIONS}/channels`;

    it('on a connected server: asks the IRC service to join and records the channel', async () => {
      const serverId = await insertServer(db);
      const joined: unknown[] = [];
      mswServer.use(
        http.post(CHANNELS, async ({ request }) => {
          joined.push(await request.json());
          return new HttpResponse(null, { status: 202 });
        }),
      );

      const response = await json('POST', `/api/servers/${serverId}/channels`, { name: '#Test' });

      expect(response.status).toBe(202);
      expect(joined).toEqual([{ name: '#test' }]);
      expect((await response.json()).channel).toMatchObject({ name: '#test', joined: false, userCount: 0 });
      expect(events.events).toContainEqual({
        type: 'channel',
        payload: { serverId, channelId: expect.any(Number), name: '#test', joined: false, userCount: 0 },
      });
    });

    it('on a disconnected server: keeps the channel for the next connect without asking the IRC service', async () => {
      const serverId = await insertServer(db, { connectedAt: null });

      const response = await json('POST', `/api/servers/${serverId}/channels`, { name: '#later' });

      expect(response.status).toBe(202);
      expect(await db.query('select name from channels where server_id = $1', [serverId])).toEqual([
        { name: '#later' },
      ]);
    });

    it('answers 502 and records nothing when the IRC service is unreachable', async () => {
      const serverId = await insertServer(db);
      ircServiceDown('post', CHANNELS);

      expect((await json('POST', `/api/servers/${serverId}/channels`, { name: '#x' })).status).toBe(502);
      expect(await db.query('select name from channels where server_id = $1', [serverId])).toEqual([]);
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
