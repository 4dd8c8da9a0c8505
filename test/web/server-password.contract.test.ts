/**
 * The IRC server password across the wire: a password the servers API saves always connects (the real IRC
 * service app answers the PUT), and one the IRC service would refuse is refused by the web side, naming the field.
 */
import { Hono } from 'hono';
import { http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientInput } from '../../machines/irc-connection.machine.ts';
import type { MikroORM } from '../../src/db/orm.ts';
import { createIrcServiceApp } from '../../src/irc-service/app.ts';
import { IrcConnectionRegistry, type IrcEventMap } from '../../src/irc-service/irc-connection-registry.ts';
import { connectionFieldSchemas, ircStatusSchema } from '../../src/shared/irc-service-contract.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { serversRoutes } from '../../src/web/servers/servers.routes.ts';
import { WantedConnections } from '../../src/web/servers/wanted-connections.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { IRC_SERVICE_URL, recordingPublisher, TOKEN } from './fixtures.ts';

/** The longest password the IRC service takes, read from the contract so the test follows the limit. */
const MAX_PASSWORD = connectionFieldSchemas.password.maxLength ?? Number.NaN;

describe('an IRC server password, web side to IRC service', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let close: () => Promise<void>;
  let app: Hono;
  let reconciler: WantedConnections;
  let ircService: Hono;
  let registry: IrcConnectionRegistry;
  let ircEvents: EventStream<IrcEventMap>;
  const opened: IrcClientInput[] = [];

  beforeAll(async () => {
    ({ db, orm, close } = await createTestOrm());
    // the real IRC service app, with a network that registers every connection at once
    const clientLogic = fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack }) => {
      opened.push(input);
      sendBack({ type: 'REGISTERED', nickname: input.settings.nickname });
    });
    ircEvents = new EventStream<IrcEventMap>({ heartbeatMs: 0 });
    registry = new IrcConnectionRegistry({ clientLogic, onEvent: () => {} });
    ircService = createIrcServiceApp({ registry, events: ircEvents, token: TOKEN });

    const client = new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 2_000 });
    reconciler = new WantedConnections({ orm, ircService: client, events: recordingPublisher(), staggerMs: 0 });
    app = new Hono().route(
      '/api/servers',
      serversRoutes({ orm, ircService: client, events: recordingPublisher(), reconciler }),
    );
  });
  afterEach(() => reconciler.settled());
  afterAll(async () => {
    ircEvents.close();
    await registry.stopAll(1_000);
    await close();
  });

  /** Every request of the web side to the IRC service goes to the real IRC service app. */
  function forwardToIrcService() {
    mswServer.use(
      http.all(`${IRC_SERVICE_URL}/internal/*`, async ({ request }) => {
        const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text();
        return ircService.request(new URL(request.url).pathname, {
          method: request.method,
          headers: request.headers,
          body,
        });
      }),
    );
  }

  const json = (method: string, path: string, body: unknown) =>
    app.request(path, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  const newServer = (password: string) => ({
    name: 'Secret net',
    host: 'irc.secret.example',
    port: 6697,
    tls: true,
    nickname: 'watcher',
    password,
    autoconnect: true,
  });

  async function registeredIds(): Promise<number[]> {
    const response = await ircService.request('/internal/irc/status', {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    return ircStatusSchema.parse(await response.json()).connections;
  }

  const serverCount = async () => (await db.query<{ n: number }>('select count(*)::int as n from servers'))[0]!.n;

  it('a password of the longest length the web side accepts connects', async () => {
    forwardToIrcService();
    const password = 'p'.repeat(MAX_PASSWORD);

    const created = await json('POST', '/api/servers', newServer(password));
    await reconciler.settled();

    expect(created.status).toBe(201);
    const { id } = await created.json();
    expect(await registeredIds()).toContain(id);
    expect(opened.at(-1)?.settings).toMatchObject({ host: 'irc.secret.example', password });
    expect(await (await app.request(`/api/servers/${id}`)).json()).toMatchObject({ pending: null });
  });

  it.each([
    ['one past the IRC service limit', MAX_PASSWORD + 1],
    ['the old web limit plus one', 256],
  ])('refuses a password %s (%i characters) with a 400 naming password, writing nothing', async (_label, length) => {
    const before = await serverCount();

    const response = await json('POST', '/api/servers', newServer('p'.repeat(length)));

    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ field: 'password' });
    expect(await serverCount()).toBe(before);
  });

  it('refuses a too long password on an edit too, keeping the saved one', async () => {
    forwardToIrcService();
    const created = await json('POST', '/api/servers', { ...newServer('kept'), autoconnect: false });
    const { id } = await created.json();

    const response = await json('PATCH', `/api/servers/${id}`, { password: 'p'.repeat(MAX_PASSWORD + 1) });

    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ field: 'password' });
    const [row] = await db.query<{ password: string }>('select password from servers where id = $1', [id]);
    expect(row?.password).toBe('kept');
  });
});
