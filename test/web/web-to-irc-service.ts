/**
 * The web side's servers API wired, over msw, to the real IRC service app: what the web side saves is what
 * the IRC service's contract receives. The network behind the IRC service registers every connection at once.
 * Call it inside a `describe`: it registers its own setup and teardown hooks.
 */
import { Hono } from 'hono';
import { http } from 'msw';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientInput } from '../../machines/irc-connection.machine.ts';
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

export interface WebToIrcService {
  readonly db: TestDatabase;
  /** The servers API (`/api/servers…`). */
  readonly app: Hono;
  readonly reconciler: WantedConnections;
  /** The settings of every connection the IRC service opened, in order. */
  readonly opened: IrcClientInput[];
  /** From now on, every request of the web side to the IRC service goes to the real IRC service app. */
  forwardToIrcService(): void;
  /** A JSON request to the servers API. */
  json(method: string, path: string, body: unknown): Promise<Response>;
  /** Ids of the connections the IRC service has registered, from its own status route. */
  registeredIds(): Promise<number[]>;
  /** How many servers rows there are. */
  serverCount(): Promise<number>;
}

export function webToIrcService(): WebToIrcService {
  let db: TestDatabase | undefined;
  let app: Hono | undefined;
  let reconciler: WantedConnections | undefined;
  let ircService: Hono | undefined;
  let registry: IrcConnectionRegistry | undefined;
  let ircEvents: EventStream<IrcEventMap> | undefined;
  let close = async () => {};
  const opened: IrcClientInput[] = [];
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('webToIrcService: used before its beforeAll ran');
    return value;
  };

  beforeAll(async () => {
    const test = await createTestOrm();
    db = test.db;
    close = test.close;
    const clientLogic = fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack }) => {
      opened.push(input);
      sendBack({ type: 'REGISTERED', nickname: input.settings.nickname });
    });
    ircEvents = new EventStream<IrcEventMap>({ heartbeatMs: 0 });
    registry = new IrcConnectionRegistry({ clientLogic, onEvent: () => {} });
    ircService = createIrcServiceApp({ registry, events: ircEvents, token: TOKEN });

    const client = new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 2_000 });
    const orm = test.orm;
    reconciler = new WantedConnections({ orm, ircService: client, events: recordingPublisher(), staggerMs: 0 });
    app = new Hono().route(
      '/api/servers',
      serversRoutes({ orm, ircService: client, events: recordingPublisher(), reconciler }),
    );
  });
  afterEach(() => reconciler?.settled());
  afterAll(async () => {
    ircEvents?.close();
    await registry?.stopAll(1_000);
    await close();
  });

  return {
    get db() {
      return ready(db);
    },
    get app() {
      return ready(app);
    },
    get reconciler() {
      return ready(reconciler);
    },
    opened,
    forwardToIrcService() {
      const service = ready(ircService);
      mswServer.use(
        http.all(`${IRC_SERVICE_URL}/internal/*`, async ({ request }) => {
          const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text();
          return service.request(new URL(request.url).pathname, {
            method: request.method,
            headers: request.headers,
            body,
          });
        }),
      );
    },
    json(method, path, body) {
      return Promise.resolve(
        ready(app).request(path, {
          method,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );
    },
    async registeredIds() {
      const response = await ready(ircService).request('/internal/irc/status', {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      return ircStatusSchema.parse(await response.json()).connections;
    },
    async serverCount() {
      const [row] = await ready(db).query<{ n: number }>('select count(*)::int as n from servers');
      return row?.n ?? 0;
    },
  };
}
