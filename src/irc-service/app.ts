/** The IRC service's HTTP app (`/internal/*` and `/metrics` behind the bearer token, `/healthz`); it never listens itself. */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import {
  type ChannelAnswer,
  type ConnectionAnswer,
  type ConnectionBatchAnswer,
  type ConnectionsAnswer,
  channelParamSchema,
  connectionBatchRequestSchema,
  connectionRequestSchema,
  type DisconnectAnswer,
  type ErrorBody,
  joinRequestSchema,
  MAX_CONNECTIONS_PER_BATCH,
  type ResyncAnswer,
  resyncRequestSchema,
  serverIdParamSchema,
} from '../shared/irc-service-contract.ts';
import { metricsResponse } from '../shared/prometheus.ts';
import type { EventStream } from '../shared/sse/event-stream.ts';
import { validationErrorBody } from '../shared/validation-error.ts';
import { type IrcConnectionRegistry, type IrcEventMap, RegistryClosingError } from './irc-connection-registry.ts';
import { IrcServiceMetrics } from './irc-metrics.ts';
import { requestFromBody } from './settings-from-body.ts';

export interface IrcServiceAppDependencies {
  registry: IrcConnectionRegistry;
  events: EventStream<IrcEventMap>;
  /** INTERNAL_API_TOKEN: the bearer token every `/internal/*` request must carry. */
  token: string;
  /**
   * What `GET /metrics` exposes (main.ts also feeds it each actor's transitions); by default one that
   * reads the registry's states and the event stream's clients, and counts nothing else.
   */
  metrics?: IrcServiceMetrics;
  logger?: Logger;
}

/**
 * The Authorization header. Under @hono/node-server it is read from Node's own request: `c.req.header()`
 * would first copy every header into a fetch `Headers`, a cost paid on each status poll.
 */
function authorizationHeader(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming ? incoming.headers.authorization : c.req.header('Authorization');
}

/**
 * Throws 401 unless the request carries the right bearer token; the comparison takes the same time for
 * any token sent.
 */
function bearerTokenCheck(token: string): (c: Context) => void {
  const expected = Buffer.from(token);
  return (c) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorizationHeader(c) ?? '');
    const given = Buffer.from(match?.[1] ?? '');
    // timingSafeEqual needs equal lengths: a token of another length is compared as `expected` against
    // itself, so the time spent is the same whatever was sent (and no hash per request: the status poll is the hot path, see test/bench/RESULTS.md)
    const sameLength = given.length === expected.length;
    const equal = timingSafeEqual(sameLength ? given : expected, expected) && sameLength;
    if (!equal || !match) throw new HTTPException(401, { message: 'missing or wrong bearer token' });
  };
}

/** Validates a value; a failure becomes a 400 whose body names the field (see onError). */
function validate<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new HTTPException(400, { message: 'invalid request', cause: result.error });
  return result.data;
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch (error) {
    throw new HTTPException(400, { message: 'body: must be a JSON object', cause: error });
  }
}

const BODYLESS_METHODS = new Set(['GET', 'HEAD']);

/** The largest request body the IRC service reads (a connection request with its channels and a certificate). */
const MAX_BODY_BYTES = 256 * 1024;
/** The batch PUT's: up to `MAX_CONNECTIONS_PER_BATCH` of those. */
const MAX_BATCH_BODY_BYTES = MAX_CONNECTIONS_PER_BATCH * MAX_BODY_BYTES;
const BATCH_PATH = '/internal/irc/connections';

function connectionNotFound(serverId: number): HTTPException {
  return new HTTPException(404, { message: `no connection for server ${serverId}` });
}

/** The IRC service's HTTP app, built from its dependencies; it never listens by itself. */
export function createIrcServiceApp({ registry, events, token, metrics, logger }: IrcServiceAppDependencies): Hono {
  const app = new Hono();
  const exposed =
    metrics ??
    new IrcServiceMetrics({
      connectionStates: () => registry.connectionStates(),
      sseClients: () => events.clientCount,
    });

  app.get('/healthz', (c) => c.json({ ok: true }));

  const checkBearerToken = bearerTokenCheck(token);
  const tooLarge = () => new HTTPException(413, { message: 'body: too large' });
  const limits = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw tooLarge();
      },
    });
  const single = { maxBytes: MAX_BODY_BYTES, hono: limits(MAX_BODY_BYTES) };
  const batch = { maxBytes: MAX_BATCH_BODY_BYTES, hono: limits(MAX_BATCH_BODY_BYTES) };
  // A declared Content-Length is judged from Node's request: Node reads no more than it declares, and reading
  // `c.req.raw.body` (what bodyLimit does) makes @hono/node-server build a full Request, about 1 ms per PUT,
  // which a failover pays per connection (bench P7). A chunked body goes through bodyLimit, which counts it.
  const limitBody = (c: Context, next: () => Promise<void>) => {
    const { maxBytes, hono } = c.req.path === BATCH_PATH ? batch : single;
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const declared = incoming?.headers['content-length'];
    if (declared === undefined || incoming?.headers['transfer-encoding'] !== undefined) return hono(c, next);
    if (Number(declared) > maxBytes) throw tooLarge();
    return next();
  };
  // One middleware for both, without an async wrapper of its own: every layer costs the status poll
  // promises, and the status poll is the hot path (test/bench/RESULTS.md). The body limit applies only where a body may come: bodyLimit reads
  // `c.req.raw.body`, which makes @hono/node-server build a full Request, halving the polls served.
  app.use('/internal/*', (c, next) => {
    checkBearerToken(c);
    return BODYLESS_METHODS.has(c.req.method) ? next() : limitBody(c, next);
  });

  // outside /internal/, so the token is checked here; scraping runs the gauges' reads, never the status route's
  app.get('/metrics', (c) => {
    checkBearerToken(c);
    return metricsResponse(exposed.registry);
  });

  app.get('/internal/irc/status', (c) => {
    c.header('Content-Type', 'application/json');
    return c.body(registry.statusBytes(), 200);
  });

  // each connection's state and the reason of its last failure, for operators and the web side's views
  app.get('/internal/irc/connections', (c) =>
    c.json({ connections: registry.connectionStates() } satisfies ConnectionsAnswer),
  );

  app.put('/internal/irc/connections/:serverId', async (c) => {
    const { serverId } = validate(serverIdParamSchema, c.req.param());
    const outcome = registry.put(serverId, requestFromBody(validate(connectionRequestSchema, await jsonBody(c))));
    return c.json({ serverId, outcome } satisfies ConnectionAnswer, 202);
  });

  // a failover's or a restart's hand-over: one request for many connections instead of one each (bench P7); each
  // entry is judged and applied on its own, in order, and answered as the single PUT would have answered it
  app.put(BATCH_PATH, async (c) => {
    const { connections } = validate(connectionBatchRequestSchema, await jsonBody(c));
    const answers: ConnectionBatchAnswer['connections'] = connections.map(({ serverId, ...entry }) => {
      const body = connectionRequestSchema.safeParse(entry);
      if (!body.success) return { serverId, error: validationErrorBody(body.error).error };
      return { serverId, outcome: registry.put(serverId, requestFromBody(body.data)) };
    });
    return c.json({ connections: answers } satisfies ConnectionBatchAnswer, 202);
  });

  app.delete('/internal/irc/connections/:serverId', (c) => {
    const { serverId } = validate(serverIdParamSchema, c.req.param());
    if (!registry.remove(serverId)) throw connectionNotFound(serverId);
    return c.json({ serverId } satisfies DisconnectAnswer, 202);
  });

  app.post('/internal/irc/connections/:serverId/channels', async (c) => {
    const { serverId } = validate(serverIdParamSchema, c.req.param());
    const { name } = validate(joinRequestSchema, await jsonBody(c));
    if (!registry.join(serverId, name)) throw connectionNotFound(serverId);
    return c.json({ serverId, channel: name } satisfies ChannelAnswer, 202);
  });

  app.delete('/internal/irc/connections/:serverId/channels/:name', (c) => {
    const { serverId } = validate(serverIdParamSchema, c.req.param());
    const { name } = validate(channelParamSchema, { name: c.req.param('name') });
    if (!registry.part(serverId, name)) throw connectionNotFound(serverId);
    return c.json({ serverId, channel: name } satisfies ChannelAnswer, 202);
  });

  // the web side lost track (it restarted, or its stream could not replay): connections say again where they are
  app.post('/internal/irc/resync', async (c) => {
    const { serverIds } = validate(resyncRequestSchema, await jsonBody(c));
    return c.json({ serverIds: registry.resync(serverIds) } satisfies ResyncAnswer, 202);
  });

  // c.env: under @hono/node-server the frames go straight to Node's response (see EventStream)
  app.get('/internal/irc/events', (c) => events.response(c.req.header('Last-Event-ID'), c.env));

  app.notFound((c) => c.json({ error: { message: 'not found' } } satisfies ErrorBody, 404));

  // The one place errors become responses: `{error: {message, field?}}`, as on the web side; never a submitted value.
  app.onError((error, c) => {
    // a node shutting down takes no connection (a batch's first entry refuses them all); the web side asks again
    if (error instanceof RegistryClosingError) {
      return c.json({ error: { message: error.message } } satisfies ErrorBody, 503);
    }
    if (error instanceof HTTPException) {
      if (error.cause instanceof z.ZodError) return c.json(validationErrorBody(error.cause), 400);
      if (error.status === 401) c.header('WWW-Authenticate', 'Bearer');
      const field = error.status === 400 || error.status === 413 ? { field: 'body' } : {};
      return c.json({ error: { message: error.message, ...field } } satisfies ErrorBody, error.status);
    }
    logger?.error({ err: error, path: c.req.path }, 'request failed');
    return c.json({ error: { message: 'internal error' } } satisfies ErrorBody, 500);
  });

  return app;
}
