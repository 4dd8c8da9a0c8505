import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIrcServiceApp } from '../../src/irc-service/app.ts';
import type { IrcConnectionRegistry } from '../../src/irc-service/irc-connection-registry.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { startIrcServiceProcess } from '../support/irc-service-process.ts';
import type { RunningProcess } from '../support/process.ts';
import { openSse, type SseClient } from '../support/sse-client.ts';

const TOKEN = 'fault-auth-token-0123456789abcdef';

/**
 * Every route behind the token, read from the app itself so that a route added later is covered without
 * editing this test: the methods and paths registered under `/internal/`, and `/metrics`, middleware (`ALL`) left out.
 */
function internalRoutes(): { method: string; path: string }[] {
  const events = new EventStream({ heartbeatMs: 0 });
  const app = createIrcServiceApp({ registry: {} as IrcConnectionRegistry, events, token: TOKEN });
  events.close();
  const seen = new Set<string>();
  return app.routes
    .filter((route) => (route.path.startsWith('/internal/') || route.path === '/metrics') && route.method !== 'ALL')
    .map((route) => ({ method: route.method, path: route.path }))
    .filter((route) => {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** A concrete URL path for a route pattern: ids and channel names filled in. */
function concrete(path: string): string {
  return path.replace(':serverId', '1').replace(':name', encodeURIComponent('#chan'));
}

/** A body that would be valid, so a refusal can only come from the missing or wrong credentials. */
function bodyFor(method: string, path: string): string | undefined {
  if (method === 'PUT') return JSON.stringify({ host: '127.0.0.1', port: 1, nickname: 'intruder', channels: ['#x'] });
  if (method === 'POST' && path.endsWith('/channels')) return JSON.stringify({ name: '#x' });
  return undefined;
}

const WRONG_CREDENTIALS: [string, Record<string, string>][] = [
  ['no Authorization header', {}],
  ['an empty bearer token', { Authorization: 'Bearer ' }],
  ['a wrong token', { Authorization: 'Bearer wrong-token-0123456789abcdef' }],
  ['the token with a character more', { Authorization: `Bearer ${TOKEN}x` }],
  ['a prefix of the token', { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
  ['the token without the Bearer scheme', { Authorization: TOKEN }],
  ['the token as basic auth', { Authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` }],
  ['the token in another header', { 'X-Internal-Token': TOKEN }],
];

/** The real IRC service process refuses every internal route to a caller without the right token. */
describe('fault: unauthenticated requests to the IRC service', () => {
  const routes = internalRoutes();
  let service: RunningProcess;
  let url: string;
  /** An authorized follower of the event stream: it would hear of any connection a refused request started. */
  let follower: SseClient;

  beforeAll(async () => {
    ({ service, url } = await startIrcServiceProcess(TOKEN));
    follower = await openSse(`${url}/internal/irc/events`, { Authorization: `Bearer ${TOKEN}` });
  });

  afterAll(async () => {
    follower?.close();
    await service?.kill();
  });

  it('finds every route of the contract in the app', () => {
    expect(routes).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: '/internal/irc/status' },
        { method: 'PUT', path: '/internal/irc/connections/:serverId' },
        { method: 'DELETE', path: '/internal/irc/connections/:serverId' },
        { method: 'POST', path: '/internal/irc/connections/:serverId/channels' },
        { method: 'DELETE', path: '/internal/irc/connections/:serverId/channels/:name' },
        { method: 'GET', path: '/internal/irc/events' },
        { method: 'GET', path: '/metrics' },
      ]),
    );
  });

  describe.each(routes)('$method $path', ({ method, path }) => {
    it.each(WRONG_CREDENTIALS)('refuses %s with 401 and does nothing', async (_, headers) => {
      const response = await fetch(`${url}${concrete(path)}`, {
        method,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
        body: bodyFor(method, path),
      });
      const body = await response.text();

      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.headers.get('content-type')).not.toMatch(/event-stream/);
      expect(body).not.toContain(TOKEN.slice(0, 8));
    });

    it('answers something other than 401 with the right token (the path above is a real route)', async () => {
      const abort = new AbortController();
      const response = await fetch(`${url}${concrete(path)}`, {
        method,
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        // an invalid body: nothing is started by this control request
        body: method === 'PUT' || method === 'POST' ? '{}' : undefined,
        signal: abort.signal,
      });
      abort.abort();

      expect(response.status).not.toBe(401);
    });
  });

  it('started, joined or stopped nothing for any refused request', async () => {
    const response = await fetch(`${url}/internal/irc/status`, { headers: { Authorization: `Bearer ${TOKEN}` } });

    expect(await response.json()).toEqual({ node: expect.any(String), connections: [] });
    // a connection started by a refused PUT would have reported `reconnecting` (port 1 refuses)
    expect(follower.events).toEqual([]);
    expect(service.output()).not.toMatch(/"serverId":1/);
  });
});
