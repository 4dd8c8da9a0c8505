import { HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ircConnectionMachine } from '../../machines/irc-connection.machine.ts';
import { type MikroORM, openOrm } from '../../src/db/orm.ts';
import { readSse, type SseMessage } from '../../src/shared/sse/sse-reader.ts';
import { machineToMermaid } from '../../src/web/machines/machine-diagram.ts';
import { createTestDatabase, createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { insertServer, STATUS_URL, serverPicture } from './fixtures.ts';
import { assembleWeb } from './web-harness.ts';

describe('web app', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let closeDatabase: () => Promise<void>;
  let web: ReturnType<typeof assembleWeb>;

  beforeEach(async () => {
    ({ db, orm, close: closeDatabase } = await createTestOrm());
    web = assembleWeb(orm);
  });
  afterEach(async () => {
    await web.close();
    await closeDatabase();
  });

  function answerStatus(connections: number[]) {
    mswServer.use(http.get(STATUS_URL, () => HttpResponse.json({ connections })));
  }

  describe('probes', () => {
    it('GET /healthz answers 200', async () => {
      const response = await web.app.request('/healthz');

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
    });

    it('GET /readyz answers 200 when the database answers', async () => {
      const response = await web.app.request('/readyz');

      expect(response.status).toBe(200);
    });

    it('GET /readyz answers 503 when the database is unreachable, while /healthz still answers 200', async () => {
      const gone = await createTestDatabase();
      const goneOrm = await openOrm(gone.url);
      const app = assembleWeb(goneOrm).app;
      await gone.drop();

      const ready = await app.request('/readyz');
      const live = await app.request('/healthz');

      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ error: { message: 'the database is unreachable' } });
      expect(live.status).toBe(200);
      await goneOrm.close();
    });
  });

  describe('/api/health-check', () => {
    it('GET answers the state and no report before the supervisor has run', async () => {
      const response = await web.app.request('/api/health-check');

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        state: 'idle',
        lastReport: null,
        recent: [],
        nodes: [{ name: null, state: 'idle', consecutiveUnknown: 0, lastCheck: null }],
        eventId: web.events.position,
      });
    });

    it('POST answers 503 when the supervisor is not running', async () => {
      const response = await web.app.request('/api/health-check', { method: 'POST' });

      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ error: { message: expect.stringMatching(/not running/) } });
    });

    it('POST runs a check and answers its report; GET then shows it', async () => {
      const serverId = await insertServer(db);
      answerStatus([serverId]);
      web.supervisor.start();

      const posted = await web.app.request('/api/health-check', { method: 'POST' });
      const report = await posted.json();
      const got = await (await web.app.request('/api/health-check')).json();

      expect(posted.status).toBe(200);
      expect(report).toMatchObject({ outcome: 'answered', connections: [serverId], kept: [serverId], error: null });
      expect(got).toEqual({
        state: 'healthy',
        lastReport: report,
        recent: expect.arrayContaining([expect.objectContaining({ checkedAt: report.checkedAt })]),
        // the one node of IRC_SERVICE_URL, whose answer did not name it
        nodes: [
          {
            name: null,
            state: 'healthy',
            consecutiveUnknown: 0,
            lastCheck: expect.objectContaining({ checkedAt: report.checkedAt, outcome: 'answered' }),
          },
        ],
        eventId: web.events.position,
      });
    });

    it('GET lists the last 20 checks newest first, with what each did, and the health event carries them', async () => {
      const stale = await insertServer(db);
      const live = await insertServer(db, { connectedAt: null });
      answerStatus([live]);
      web.supervisor.start();
      const first = await web.supervisor.checkNow();
      const afterFirst = (await (await web.app.request('/api/health-check')).json()).recent;
      for (let check = 0; check < 21; check += 1) await web.supervisor.checkNow();
      const events = readSse(
        (await web.app.request('/events', { headers: { 'Last-Event-ID': `${web.events.bootId}-0` } })).body!,
      );
      const last = await web.supervisor.checkNow();

      const { recent } = await (await web.app.request('/api/health-check')).json();

      expect(first).toMatchObject({ disconnected: [stale], markedConnected: [live] });
      expect(afterFirst).toEqual([
        {
          checkedAt: first.checkedAt,
          outcome: 'answered',
          durationMs: Date.parse(first.checkedAt) - Date.parse(first.checkStartedAt),
          disconnected: 1,
          markedConnected: 1,
          error: null,
        },
      ]);
      expect(recent).toHaveLength(20);
      expect(recent[0]).toEqual({
        checkedAt: last.checkedAt,
        outcome: 'answered',
        durationMs: expect.any(Number),
        disconnected: 0,
        markedConnected: 0,
        error: null,
      });
      expect(recent.map((check: { checkedAt: string }) => check.checkedAt)).not.toContain(first.checkedAt);
      let health: { recent: unknown[] } | undefined;
      for await (const message of events) {
        if (message.event !== 'health') continue;
        health = JSON.parse(message.data);
        if ((health?.recent[0] as { checkedAt: string } | undefined)?.checkedAt === last.checkedAt) break;
      }
      expect(health?.recent).toEqual(recent);
      await events.return(undefined);
    });

    it('a server shown connected with no connection in the IRC service shows disconnected after the check, channels reset', async () => {
      const serverId = await insertServer(db, {
        channels: [
          { name: '#a', users: ['alice', 'bob'] },
          { name: '#b', users: ['carol'] },
        ],
      });
      answerStatus([]);
      web.supervisor.start();

      const response = await web.app.request('/api/health-check', { method: 'POST' });

      expect(response.status).toBe(200);
      expect(await serverPicture(db, serverId)).toEqual({
        connected: false,
        connectedAt: null,
        joinedChannels: 0,
        channelUsers: 0,
      });
      expect(
        await db.query('select name, joined from channels where server_id = $1 order by name', [serverId]),
      ).toEqual([
        { name: '#a', joined: false },
        { name: '#b', joined: false },
      ]);
    });
  });

  describe('routes that do not exist, the favicon and the machines', () => {
    it('an unknown /api/* route answers 404 in JSON', async () => {
      const response = await web.app.request('/api/nothing-here', { method: 'POST' });

      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({ error: { message: 'no route POST /api/nothing-here' } });
    });

    it('an unknown path under a known /api/* prefix answers 404 in JSON too', async () => {
      const response = await web.app.request('/api/servers/1/nothing');

      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { message: 'no route GET /api/servers/1/nothing' } });
    });

    it('serves the favicon the page links, and at /favicon.ico', async () => {
      const page = await (await web.app.request('/')).text();
      const linked = /<link rel="icon" href="([^"]+)"/.exec(page)?.[1];

      for (const path of [linked, '/favicon.ico']) {
        const response = await web.app.request(path ?? '/missing-link');
        expect(response.status, path).toBe(200);
        expect(response.headers.get('content-type')).toBe('image/svg+xml');
        expect(await response.text()).toMatch(/^<svg /);
      }
    });

    it("GET /api/machines/irc-connection answers the connection machine's states and transitions, generated from it", async () => {
      const response = await web.app.request('/api/machines/irc-connection');
      const diagram = await response.json();

      expect(response.status).toBe(200);
      expect(diagram.mermaid).toBe(machineToMermaid(ircConnectionMachine));
      expect(diagram.states.map((state: { id: string }) => state.id)).toEqual(
        expect.arrayContaining(['socket', 'socket.connecting', 'socket.registered', 'reconnecting', 'stopped']),
      );
      expect(diagram.states).toContainEqual(expect.objectContaining({ id: 'socket.registered', parent: 'socket' }));
      expect(diagram.transitions).toContainEqual({
        source: 'socket.connecting',
        target: 'socket.registered',
        label: 'REGISTERED',
      });
    });

    it('an unknown machine answers 404 in JSON', async () => {
      const response = await web.app.request('/api/machines/nope');

      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { message: 'no machine named nope' } });
    });
  });

  describe('GET /events', () => {
    it('streams server-status with connected: false for a server found stale', async () => {
      const stale = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      const valid = await insertServer(db);
      answerStatus([valid]);
      const response = await web.app.request('/events');
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const messages = readSse(response.body!);

      web.supervisor.start();
      const received = await nextOfType(messages, 'server-status');

      expect(received.id).toMatch(new RegExp(`^${web.events.bootId}-\\d+$`));
      expect(JSON.parse(received.data)).toEqual({ serverId: stale, connected: false, connectedAt: null });
      await messages.return(undefined);
    });

    it('replays what a reconnecting client missed after its Last-Event-ID', async () => {
      const stale = await insertServer(db);
      answerStatus([]);
      const first = await web.app.request('/events');
      const firstMessages = readSse(first.body!);
      web.supervisor.start();
      const seen = await nextOfType(firstMessages, 'health');
      await firstMessages.return(undefined);
      await web.supervisor.checkNow();

      const again = await web.app.request('/events', { headers: { 'Last-Event-ID': seen.id! } });
      const replayed = await nextOfType(readSse(again.body!), 'server-status');

      expect(JSON.parse(replayed.data)).toMatchObject({ serverId: stale, connected: false });
    });
  });
});

async function nextOfType(messages: AsyncGenerator<SseMessage>, type: string): Promise<SseMessage> {
  for await (const message of messages) {
    if (message.event === type) return message;
  }
  throw new Error(`the stream ended before a ${type} event`);
}
