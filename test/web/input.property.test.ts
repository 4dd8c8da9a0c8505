import fc from 'fast-check';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { IRC_EVENT_TYPES, type IrcEventType, parseIrcEvent } from '../../src/shared/irc-events.ts';
import { applyIrcEvent } from '../../src/web/irc-events/irc-event-applier.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { ConnectionStates } from '../../src/web/servers/connection-states.ts';
import { serversRoutes } from '../../src/web/servers/servers.routes.ts';
import { WantedConnections } from '../../src/web/servers/wanted-connections.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
// any request to the IRC service fails the test instead of leaving the machine
import '../support/msw.ts';
import { IRC_SERVICE_URL, insertServer, recordingPublisher, TOKEN } from './fixtures.ts';

/**
 * Property-based: whatever arrives at a boundary, the answer is never a 500 and never a partial write,
 * and a refusal is a 400 that names the field. (No request here reaches the IRC service: servers are
 * disconnected, and an unexpected request would fail, being unhandled.)
 */
const RUNS = 60;

/** Field names of the API, so generated objects often hit real fields with wrong values. */
const fieldName = fc.constantFrom(
  'name',
  'host',
  'port',
  'nickname',
  'tls',
  'username',
  'realname',
  'password',
  'autoconnect',
  'extra',
  '__proto__',
  'constructor',
);
const anyValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);
const validServer = fc.record({
  name: fc.string({ minLength: 1, maxLength: 20 }).filter((name) => name.trim().length > 0 && !/\p{Cc}/u.test(name)),
  host: fc.domain(),
  port: fc.integer({ min: 1, max: 65_535 }),
  nickname: fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/),
});
/** Mostly-valid bodies with one field broken, plus arbitrary JSON. */
const serverBody = fc.oneof(
  fc.tuple(validServer, fieldName, anyValue).map(([server, field, value]) => ({ ...server, [field]: value })),
  fc.dictionary(fieldName, anyValue, { maxKeys: 6 }),
  fc.jsonValue(),
);

describe('input at every boundary (property-based)', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let close: () => Promise<void>;
  let app: Hono;
  let reconciler: WantedConnections;

  beforeAll(async () => {
    ({ db, orm, close } = await createTestOrm());
    const ircService = new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 1_000 });
    const events = recordingPublisher();
    reconciler = new WantedConnections({ orm, ircService, events, staggerMs: 0 });
    app = new Hono().route('/api/servers', serversRoutes({ orm, ircService, events, reconciler }));
  });
  afterAll(async () => {
    await reconciler.settled();
    await close();
  });

  // an earlier accepted server's wish (autoconnect) is passed on after its answer: the snapshot waits for it,
  // so its `pending` write is never taken for a write of the refused request
  const snapshot = async () => {
    await reconciler.settled();
    return db.query(
      `select (select json_agg(s order by id) from servers s) as servers,
              (select json_agg(c order by id) from channels c) as channels`,
    );
  };

  async function send(method: string, path: string, body: string | undefined) {
    return app.request(path, { method, headers: { 'Content-Type': 'application/json' }, body });
  }

  /** A 400 names a field; anything else is one of the answers the route may give. */
  async function expectClean(response: Response, allowed: number[]) {
    expect(allowed).toContain(response.status);
    if (response.status === 400) {
      const body = await response.json();
      expect(typeof body.error.field).toBe('string');
      expect(body.error.message).toContain(body.error.field.split('.')[0]);
    }
  }

  it('POST /api/servers: 201 or a 400 naming the field, and a refusal writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(serverBody, async (body) => {
        const before = await snapshot();
        const response = await send('POST', '/api/servers', JSON.stringify(body));
        await expectClean(response, [201, 400]);
        if (response.status === 400) expect(await snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /api/servers with a body that is not JSON: 400 naming the body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 100 }), async (text) => {
        fc.pre(!isJson(text));
        const response = await send('POST', '/api/servers', text);
        expect(response.status).toBe(400);
        expect((await response.json()).error.field).toBe('body');
      }),
      { numRuns: RUNS },
    );
  });

  it('PATCH /api/servers/:id: 200 or a 400 naming the field, and a refusal changes nothing', async () => {
    const serverId = await insertServer(db, { connectedAt: null });
    await fc.assert(
      fc.asyncProperty(serverBody, async (body) => {
        const before = await snapshot();
        const response = await send('PATCH', `/api/servers/${serverId}`, JSON.stringify(body));
        await expectClean(response, [200, 400]);
        if (response.status === 400) expect(await snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('every path parameter: a 400 naming it or a 404, never a 500', async () => {
    const routes: Array<[string, (id: string) => string]> = [
      ['GET', (id) => `/api/servers/${id}`],
      ['PATCH', (id) => `/api/servers/${id}`],
      ['DELETE', (id) => `/api/servers/${id}`],
      ['POST', (id) => `/api/servers/${id}/connect`],
      ['POST', (id) => `/api/servers/${id}/disconnect`],
      ['POST', (id) => `/api/servers/${id}/channels`],
    ];
    const id = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
      fc.integer().map(String),
      fc.bigInt().map(String),
      fc.constantFrom('0', '-1', '1e3', '2147483648', '99999999999999999999', '1.5', ' 1'),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), id, async ([method, path], raw) => {
        // an id of a server the other properties created would reach the IRC service: not this property's case
        fc.pre(!/^\d+$/.test(raw) || Number(raw) > 1_000_000_000);
        const body = method === 'GET' ? undefined : JSON.stringify({ name: 'x' });
        const response = await send(method, path(encodeURIComponent(raw)), body);
        expect([400, 404]).toContain(response.status);
        if (response.status === 400) expect((await response.json()).error.field).toMatch(/^(id|name|body)$/);
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /api/servers/:id/channels: 202 or a 400 naming the field, and a refusal adds no channel', async () => {
    const serverId = await insertServer(db, { connectedAt: null });
    const body = fc.oneof(
      fc.record({ name: fc.string({ unit: 'binary', maxLength: 60 }) }),
      fc.record({ name: fc.string({ maxLength: 40 }).map((name) => `#${name}`) }),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const before = await snapshot();
        const response = await send('POST', `/api/servers/${serverId}/channels`, JSON.stringify(input));
        await expectClean(response, [202, 400]);
        if (response.status === 400) expect(await snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('every IRC event payload: refused by the schema, or applied without an error', async () => {
    const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 250 }),
      fc.constantFrom('#a', 'alice', '', 'o', '\u0000', 'x\r\ny'),
    );
    const time = fc.oneof(
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      text,
    );
    const payload = fc.record(
      {
        serverId: fc.oneof(fc.constant(serverId), fc.integer(), fc.double(), fc.string()),
        channel: text,
        nickname: text,
        newNickname: text,
        modes: text,
        reason: text,
        attempt: fc.integer(),
        delayMs: fc.integer(),
        users: fc.array(fc.record({ nickname: text, modes: text }), { maxLength: 5 }),
        // connection-state
        state: fc.oneof(fc.constantFrom('reconnecting', 'socket.registered', 'x.', ''), text),
        since: time,
        nextAttemptAt: fc.oneof(fc.constant(null), time),
        lastError: fc.oneof(fc.constant(null), fc.record({ message: text, at: time })),
      },
      { requiredKeys: [] },
    );
    const connections = new ConnectionStates();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<IrcEventType>(...IRC_EVENT_TYPES), payload, async (type, data) => {
        const event = parseIrcEvent(type, JSON.parse(JSON.stringify(data)));
        if (event) await applyIrcEvent(orm.em.fork(), event, connections);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
