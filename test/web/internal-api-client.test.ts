import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BadServiceAnswer } from '../../src/web/irc-service/errors/bad-service-answer.ts';
import { ServiceTimeout } from '../../src/web/irc-service/errors/service-timeout.ts';
import { ServiceUnavailable } from '../../src/web/irc-service/errors/service-unavailable.ts';
import { Unauthorized } from '../../src/web/irc-service/errors/unauthorized.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { TOKEN } from './fixtures.ts';

// Real sockets rather than msw: refused and reset connections are what ServiceUnavailable is about.
describe('InternalApiClient', () => {
  const servers: Server[] = [];

  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });

  async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const clientFor = (baseUrl: string, timeoutMs = 2_000) => new InternalApiClient({ baseUrl, token: TOKEN, timeoutMs });

  it('status() sends the bearer token and answers the parsed connections', async () => {
    let authorization: string | undefined;
    const url = await serve((request, response) => {
      authorization = request.headers.authorization;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"connections":[1,3],"uptime":5}');
    });

    const status = await clientFor(url).status();

    expect(authorization).toBe(`Bearer ${TOKEN}`);
    expect(status.connections).toEqual([1, 3]);
  });

  it('does not follow a redirect: a connect sent elsewhere fails, and nothing reaches the other address', async () => {
    let reachedElsewhere = false;
    const elsewhere = await serve((_request, response) => {
      reachedElsewhere = true;
      response.writeHead(202).end();
    });
    const url = await serve((_request, response) => {
      response.writeHead(307, { location: `${elsewhere}/internal/irc/connections/1` }).end();
    });

    const failure = await clientFor(url)
      .connect(1, { host: 'irc.example', port: 6667, tls: false, nickname: 'me', channels: [] })
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ServiceUnavailable);
    expect(reachedElsewhere).toBe(false);
  });

  it('fails with ServiceUnavailable when the connection is refused, keeping the cause', async () => {
    const url = await serve(() => {});
    const closing = servers.pop()!;
    await new Promise((done) => closing.close(done));

    const failure = await clientFor(url)
      .status()
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ServiceUnavailable);
    expect((failure as Error).name).toBe('ServiceUnavailable');
    expect((failure as Error).message).toMatch(/ECONNREFUSED/);
    expect((failure as Error).cause).toBeInstanceOf(TypeError);
  });

  it('fails with ServiceUnavailable when the connection is reset', async () => {
    const url = await serve((request) => request.socket.destroy());

    await expect(clientFor(url).status()).rejects.toBeInstanceOf(ServiceUnavailable);
  });

  it('fails with ServiceTimeout when no answer comes in time', async () => {
    const url = await serve(() => {
      // never answers
    });

    const failure = await clientFor(url, 50)
      .status()
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ServiceTimeout);
    expect(failure).toMatchObject({ name: 'ServiceTimeout', timeoutMs: 50 });
  });

  it('fails with Unauthorized on a 401', async () => {
    const url = await serve((_request, response) => response.writeHead(401).end('{"error":"unauthorized"}'));

    await expect(clientFor(url).status()).rejects.toBeInstanceOf(Unauthorized);
  });

  it.each([
    ['a 500', 500, '{"error":"boom"}'],
    ['a body that breaks the contract', 200, '{"connections":[0]}'],
    ['a body that is not JSON', 200, '<html>'],
  ])('fails with BadServiceAnswer on %s', async (_label, status, body) => {
    const url = await serve((_request, response) => response.writeHead(status).end(body));

    const failure = await clientFor(url)
      .status()
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(BadServiceAnswer);
    expect(failure).toMatchObject({ name: 'BadServiceAnswer', status });
  });

  it('connect() PUTs the settings as JSON; disconnect() tells a 404 apart', async () => {
    const seen: Array<{ method?: string; url?: string; body: string }> = [];
    const url = await serve((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method, url: request.url, body });
        response.writeHead(request.method === 'DELETE' ? 404 : 202).end();
      });
    });
    const client = clientFor(url);

    await client.connect(4, { host: 'irc.example', port: 6697, tls: true, nickname: 'me' });
    const found = await client.disconnect(4);

    expect(seen).toEqual([
      {
        method: 'PUT',
        url: '/internal/irc/connections/4',
        body: JSON.stringify({ host: 'irc.example', port: 6697, tls: true, nickname: 'me' }),
      },
      { method: 'DELETE', url: '/internal/irc/connections/4', body: '' },
    ]);
    expect(found).toBe(false);
  });

  it('a refusal carries the message of the error body the contract defines', async () => {
    const refusal = {
      error: { message: 'password: Too big: expected string to have <=200 characters', field: 'password' },
    };
    const url = await serve((_request, response) => response.writeHead(400).end(JSON.stringify(refusal)));

    const failure = await clientFor(url)
      .connect(4, { host: 'irc.example', port: 6697, nickname: 'me', password: 'x' })
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(BadServiceAnswer);
    expect(failure).toMatchObject({ status: 400, message: expect.stringContaining(refusal.error.message) });
  });

  it("connectMany() PUTs the entries in one request and answers each one's refusal; a mismatched answer is refused", async () => {
    const seen: Array<{ url?: string; body: unknown }> = [];
    const answers = [
      {
        connections: [
          { serverId: 4, outcome: 'started' },
          { serverId: 5, error: { message: 'nickname: must be a valid IRC nickname', field: 'nickname' } },
        ],
      },
      { connections: [{ serverId: 5, outcome: 'started' }] },
    ];
    const url = await serve((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push({ url: request.url, body: JSON.parse(body) });
        response.writeHead(202).end(JSON.stringify(answers.shift()));
      });
    });
    const client = clientFor(url);
    const entries = [
      { serverId: 4, request: { host: 'irc.example', port: 6667, nickname: 'me' } },
      { serverId: 5, request: { host: 'irc.example', port: 6667, nickname: 'bad nick' } },
    ];

    const refusals = await client.connectMany(entries);
    const mismatch = await client.connectMany(entries).catch((error: unknown) => error);

    expect(seen[0]).toEqual({
      url: '/internal/irc/connections',
      body: { connections: entries.map(({ serverId, request }) => ({ ...request, serverId })) },
    });
    expect(refusals[0]).toBeUndefined();
    expect(refusals[1]).toBeInstanceOf(BadServiceAnswer);
    expect(refusals[1]).toMatchObject({ status: 400, message: expect.stringContaining('nickname: must be a valid') });
    expect(mismatch).toBeInstanceOf(BadServiceAnswer);
  });

  it('resync() answers the ids the IRC service asked, and refuses an answer outside the contract', async () => {
    const answers = ['{"serverIds":[2,4]}', '{"serverIds":["2"]}'];
    const url = await serve((_request, response) => response.writeHead(202).end(answers.shift()));
    const client = clientFor(url);

    const asked = await client.resync([2, 3, 4]);
    const failure = await client.resync().catch((error: unknown) => error);

    expect(asked).toEqual([2, 4]);
    expect(failure).toBeInstanceOf(BadServiceAnswer);
  });

  it('connections() answers each connection with its state and reason, and refuses an answer outside the contract', async () => {
    const state = {
      serverId: 2,
      state: 'reconnecting',
      since: '2026-12-03T07:00:01.000Z',
      nickname: null,
      attempt: 1,
      nextAttemptAt: '2026-12-03T07:00:02.000Z',
      lastError: { message: 'connect ECONNREFUSED 127.0.0.1:16668', at: '2026-12-03T07:00:01.000Z' },
    };
    const answers = [
      JSON.stringify({ connections: [state] }),
      JSON.stringify({ connections: [{ ...state, since: 'yesterday' }] }),
    ];
    const paths: Array<string | undefined> = [];
    const url = await serve((request, response) => {
      paths.push(request.url);
      response.writeHead(200, { 'content-type': 'application/json' }).end(answers.shift());
    });
    const client = clientFor(url);

    const connections = await client.connections();
    const failure = await client.connections().catch((error: unknown) => error);

    expect(paths).toEqual(['/internal/irc/connections', '/internal/irc/connections']);
    expect(connections).toEqual([state]);
    expect(failure).toBeInstanceOf(BadServiceAnswer);
  });
});
