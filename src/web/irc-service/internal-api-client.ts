/** The web side's client of the IRC service's `/internal/*` API, each failure a typed error. */
import type { z } from 'zod';
import { socketErrorCode } from '../../shared/error-text.ts';
import {
  type ConnectionBatchRequest,
  type ConnectionRequest,
  type ConnectionState,
  connectionBatchAnswerSchema,
  connectionsAnswerSchema,
  errorBodySchema,
  type IrcStatus,
  ircStatusSchema,
  type JoinRequest,
  type ResyncRequest,
  resyncAnswerSchema,
} from '../../shared/irc-service-contract.ts';
import { BadServiceAnswer } from './errors/bad-service-answer.ts';
import { InternalApiError } from './errors/internal-api-error.ts';
import { ServiceTimeout } from './errors/service-timeout.ts';
import { ServiceUnavailable } from './errors/service-unavailable.ts';
import { Unauthorized } from './errors/unauthorized.ts';

export interface InternalApiClientOptions {
  /** `IRC_SERVICE_URL`, e.g. `http://127.0.0.1:3001`. */
  baseUrl: string;
  /** `INTERNAL_API_TOKEN`, sent as a bearer token. */
  token: string;
  /** `IRC_STATUS_TIMEOUT_MS`: the longest wait for an answer, body included. */
  timeoutMs: number;
  /** Injectable for tests; the global fetch by default. */
  fetch?: typeof fetch;
}

/**
 * Socket errors that prove nothing listens at the IRC service's address. A timeout or an unknown
 * failure is not among them: a busy service may still hold live connections.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

/** The web side's client of the IRC service's `/internal/*` API. */
export class InternalApiClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: InternalApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** `GET /internal/irc/status`: the ids of the servers whose connection is registered. */
  async status(): Promise<IrcStatus> {
    return this.request('GET', '/internal/irc/status', undefined, (response) =>
      parseAnswer(response, ircStatusSchema, 'status'),
    );
  }

  /**
   * `GET /internal/irc/connections`: every connection the IRC service holds, with its state and the reason of
   * its last failure, ascending by server id.
   */
  async connections(): Promise<ConnectionState[]> {
    return this.request('GET', '/internal/irc/connections', undefined, async (response) => {
      const answer = await parseAnswer(response, connectionsAnswerSchema, 'connections');
      return answer.connections;
    });
  }

  /** `PUT /internal/irc/connections/:serverId`: starts (or keeps) the connection; idempotent. */
  async connect(serverId: number, settings: ConnectionRequest): Promise<void> {
    await this.request('PUT', `/internal/irc/connections/${serverId}`, settings, discardBody);
  }

  /**
   * `PUT /internal/irc/connections`: many connections in one request (a hand-over). Answers, per entry in the
   * order sent, nothing when the IRC service took it, or the refusal the single PUT would have thrown. A failure
   * of the request as a whole (unreachable, token refused, no such route on an older node) is thrown.
   */
  async connectMany(
    entries: ReadonlyArray<{ serverId: number; request: ConnectionRequest }>,
  ): Promise<Array<InternalApiError | undefined>> {
    const body: ConnectionBatchRequest = {
      connections: entries.map(({ serverId, request }) => ({ ...request, serverId })),
    };
    const path = '/internal/irc/connections';
    const answer = await this.request('PUT', path, body, (response) =>
      parseAnswer(response, connectionBatchAnswerSchema, 'batch connect'),
    );
    const matches = (entry: { serverId: number }, index: number) => entry.serverId === entries[index]?.serverId;
    if (answer.connections.length !== entries.length || !answer.connections.every(matches)) {
      throw new BadServiceAnswer('the batch connect answer does not match the entries sent', 202);
    }
    return answer.connections.map((entry) =>
      'error' in entry
        ? new BadServiceAnswer(
            `the IRC service answered 400 to PUT ${path}/${entry.serverId} (${entry.error.message})`,
            400,
          )
        : undefined,
    );
  }

  /** `DELETE /internal/irc/connections/:serverId`: false when the service held no such connection. */
  async disconnect(serverId: number): Promise<boolean> {
    const path = `/internal/irc/connections/${serverId}`;
    return this.request(
      'DELETE',
      path,
      undefined,
      async (response) => {
        await discardBody(response);
        return response.status !== 404;
      },
      [404],
    );
  }

  /** `POST /internal/irc/connections/:serverId/channels`: joins a channel. */
  async join(serverId: number, name: string): Promise<void> {
    const body: JoinRequest = { name };
    await this.request('POST', `/internal/irc/connections/${serverId}/channels`, body, discardBody);
  }

  /**
   * `POST /internal/irc/resync`: the connections (all, or these) emit `connected`, `joined` and fresh
   * `names` again, for a web side that lost track. Answers the ids the IRC service asked.
   */
  async resync(serverIds?: readonly number[]): Promise<number[]> {
    const body: ResyncRequest = serverIds ? { serverIds: [...serverIds] } : {};
    return this.request('POST', '/internal/irc/resync', body, async (response) => {
      const answer = await parseAnswer(response, resyncAnswerSchema, 'resync');
      return answer.serverIds;
    });
  }

  /** `DELETE /internal/irc/connections/:serverId/channels/:name`: parts a channel. */
  async part(serverId: number, name: string): Promise<void> {
    const path = `/internal/irc/connections/${serverId}/channels/${encodeURIComponent(name)}`;
    await this.request('DELETE', path, undefined, discardBody);
  }

  /**
   * One request with the token and the timeout over the whole exchange (body included); every failure
   * becomes one of the InternalApiError classes. Statuses in `tolerated` go to `read` instead of failing.
   */
  private async request<T>(
    method: string,
    path: string,
    body: unknown,
    read: (response: Response) => Promise<T>,
    tolerated: number[] = [],
  ): Promise<T> {
    const { timeoutMs, token } = this.options;
    try {
      const response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        // the internal API never redirects; and with 'error' fetch sends the request itself instead of a clone
        // (each clone tees the body into two streams: about a fifth of a PUT's cost in a failover's hand-over)
        redirect: 'error',
      });
      if (tolerated.includes(response.status)) return await read(response);
      if (response.status === 401) {
        await discardBody(response);
        throw new Unauthorized(`the IRC service refused the token (401 on ${method} ${path})`);
      }
      if (!response.ok) {
        const refusal = await errorMessage(response);
        throw new BadServiceAnswer(
          `the IRC service answered ${response.status} to ${method} ${path}${refusal ? ` (${refusal})` : ''}`,
          response.status,
        );
      }
      return await read(response);
    } catch (error) {
      throw classifyFailure(error, timeoutMs);
    }
  }
}

/** A 2xx answer's body, parsed with its contract schema; anything else is a BadServiceAnswer. */
async function parseAnswer<Schema extends z.ZodType>(
  response: Response,
  schema: Schema,
  route: string,
): Promise<z.output<Schema>> {
  const body: unknown = await response.json().catch((error: unknown) => {
    throw new BadServiceAnswer(`the ${route} answer is not JSON`, response.status, { cause: error });
  });
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new BadServiceAnswer(`the ${route} answer does not match the contract`, response.status, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/**
 * The message of a refusal's error body (`{error: {message, field?}}`), or undefined when the body is not one
 * (a proxy's page, say). The IRC service never echoes a submitted value, so the message is safe to log.
 */
async function errorMessage(response: Response): Promise<string | undefined> {
  const body: unknown = await response.json().catch(() => undefined);
  const parsed = errorBodySchema.safeParse(body);
  return parsed.success ? parsed.data.error.message : undefined;
}

/**
 * Reads an unused body to its end so the connection goes back to the pool. (Cancelling the stream
 * instead never settles under msw's interceptor.) The request's timeout bounds the read.
 */
async function discardBody(response: Response): Promise<void> {
  await response.arrayBuffer().catch(() => undefined);
}

function classifyFailure(error: unknown, timeoutMs: number): InternalApiError {
  if (error instanceof InternalApiError) return error;
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new ServiceTimeout(timeoutMs, { cause: error });
  }
  // fetch reports every network failure as a TypeError; the socket error, when there is one, is its cause
  if (error instanceof TypeError) {
    const code = socketErrorCode(error.cause);
    if (code === undefined || UNREACHABLE_CODES.has(code)) {
      return new ServiceUnavailable(`the IRC service is unreachable${code ? ` (${code})` : ''}`, { cause: error });
    }
    return new BadServiceAnswer(`the request to the IRC service failed (${code})`, undefined, { cause: error });
  }
  return new BadServiceAnswer('the request to the IRC service failed', undefined, { cause: error });
}
