/**
 * TLS and SASL settings across the wire: what the servers API saves reaches the IRC service's connection (the real
 * IRC service app answers the PUT), the secrets (SASL password, client key) are never answered, and settings that
 * disagree (EXTERNAL without a client certificate) are a 400 naming the field, on a create and on an edit.
 */
import { Hono } from 'hono';
import { http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientInput } from '../../machines/irc-connection.machine.ts';
import type { MikroORM } from '../../src/db/orm.ts';
import { createIrcServiceApp } from '../../src/irc-service/app.ts';
import { IrcConnectionRegistry, type IrcEventMap } from '../../src/irc-service/irc-connection-registry.ts';
import { ircStatusSchema } from '../../src/shared/irc-service-contract.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { serversRoutes } from '../../src/web/servers/servers.routes.ts';
import { WantedConnections } from '../../src/web/servers/wanted-connections.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { IRC_SERVICE_URL, recordingPublisher, TOKEN } from './fixtures.ts';

const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIBcertificate\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEkeysecretbody\n-----END PRIVATE KEY-----\n';
const SASL_PASSWORD = 'sasl-hunter2';

describe('TLS and SASL settings, web side to IRC service', () => {
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

  const newServer = (settings: Record<string, unknown>) => ({
    name: 'Secure net',
    host: 'irc.secure.example',
    port: 6697,
    tls: true,
    nickname: 'watcher',
    autoconnect: true,
    ...settings,
  });

  async function registeredIds(): Promise<number[]> {
    const response = await ircService.request('/internal/irc/status', {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    return ircStatusSchema.parse(await response.json()).connections;
  }

  const serverCount = async () => (await db.query<{ n: number }>('select count(*)::int as n from servers'))[0]!.n;

  it('SASL PLAIN, a client certificate and a pinned fingerprint reach the connection; secrets are never answered', async () => {
    forwardToIrcService();
    const fingerprint = `${'AB:'.repeat(31)}AB`;

    const created = await json(
      'POST',
      '/api/servers',
      newServer({
        tlsFingerprint: fingerprint,
        clientCertificate: CERTIFICATE,
        clientKey: KEY,
        sasl: { mechanism: 'PLAIN', account: 'watcher', password: SASL_PASSWORD },
        saslRequired: false,
      }),
    );
    await reconciler.settled();

    expect(created.status).toBe(201);
    const view = await created.json();
    expect(view).toMatchObject({
      tlsVerify: true,
      tlsFingerprint: 'ab'.repeat(32),
      hasClientCertificate: true,
      hasClientKey: true,
      sasl: { mechanism: 'PLAIN', account: 'watcher' },
      hasSaslPassword: true,
      saslRequired: false,
    });
    const listed = await (await app.request('/api/servers')).text();
    for (const answer of [JSON.stringify(view), listed]) {
      expect(answer).not.toContain(SASL_PASSWORD);
      expect(answer).not.toContain('keysecretbody');
    }
    expect(await registeredIds()).toContain(view.id);
    expect(opened.at(-1)?.settings).toMatchObject({
      tlsFingerprint: 'ab'.repeat(32),
      clientCertificate: CERTIFICATE,
      clientKey: KEY,
      sasl: { mechanism: 'PLAIN', account: 'watcher', password: SASL_PASSWORD },
      saslRequired: false,
    });
    expect(opened.at(-1)?.settings.tlsVerify).not.toBe(false);
  });

  it('refuses EXTERNAL without a client certificate with a 400 naming sasl, writing nothing', async () => {
    const before = await serverCount();

    const response = await json('POST', '/api/servers', newServer({ sasl: { mechanism: 'EXTERNAL' } }));

    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ field: 'sasl' });
    expect(await serverCount()).toBe(before);
  });

  it('refuses a fingerprint that is not SHA-256 with a 400 naming tlsFingerprint', async () => {
    const response = await json('POST', '/api/servers', newServer({ tlsFingerprint: 'abcd' }));

    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ field: 'tlsFingerprint' });
  });

  it('on an edit: EXTERNAL with the saved certificate is taken; removing the key under it is a 400 naming clientKey', async () => {
    forwardToIrcService();
    const created = await json(
      'POST',
      '/api/servers',
      newServer({ clientCertificate: CERTIFICATE, clientKey: KEY, autoconnect: false }),
    );
    const { id } = await created.json();

    const external = await json('PATCH', `/api/servers/${id}`, { sasl: { mechanism: 'EXTERNAL' }, tlsVerify: false });
    const keyless = await json('PATCH', `/api/servers/${id}`, { clientKey: null });

    expect(external.status).toBe(200);
    expect(await external.json()).toMatchObject({
      sasl: { mechanism: 'EXTERNAL' },
      tlsVerify: false,
      hasClientKey: true,
    });
    expect(keyless.status).toBe(400);
    expect((await keyless.json()).error).toMatchObject({ field: 'clientKey' });
    const [row] = await db.query<{ client_key: string | null }>('select client_key from servers where id = $1', [id]);
    expect(row?.client_key).toBe(KEY);
  });
});
