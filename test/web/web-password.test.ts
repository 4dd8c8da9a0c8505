import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { createTestOrm } from '../support/database.ts';
import { assembleWeb } from './web-harness.ts';

const PASSWORD = 'correct horse battery staple';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

describe('WEB_PASSWORD', () => {
  let orm: MikroORM;
  let close: () => Promise<void>;
  let web: ReturnType<typeof assembleWeb>;

  beforeAll(async () => {
    ({ orm, close } = await createTestOrm());
    web = assembleWeb(orm, { webPassword: PASSWORD });
  });
  afterAll(async () => {
    await web.close();
    await close();
  });

  /** Every route the app serves, read from the app itself so a new route cannot be forgotten. */
  function everyRoute(): Array<{ method: string; path: string }> {
    const seen = new Set<string>();
    return web.app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => ({ method: route.method, path: route.path.replace(/:[^/]+/g, '1') }))
      .filter((route) => {
        const key = `${route.method} ${route.path}`;
        return !seen.has(key) && seen.add(key);
      });
  }

  it('covers the routes of the contract', () => {
    const keys = everyRoute().map((route) => `${route.method} ${route.path}`);
    for (const route of [
      'GET /',
      'GET /events',
      'GET /api/servers',
      'POST /api/health-check',
      'GET /readyz',
      'GET /metrics',
    ]) {
      expect(keys).toContain(route);
    }
  });

  it('refuses every route but /healthz without the password, with a challenge', async () => {
    for (const { method, path } of everyRoute()) {
      const response = await web.app.request(path, { method });
      if (path === '/healthz') {
        expect(response.status, `${method} ${path}`).toBe(200);
      } else {
        expect(response.status, `${method} ${path}`).toBe(401);
        expect(response.headers.get('www-authenticate'), `${method} ${path}`).toMatch(/^Basic realm="irc-supervisor"/);
      }
    }
  });

  it('refuses a wrong password and never echoes it', async () => {
    const response = await web.app.request('/api/servers', { headers: { authorization: basic('admin', 'guess') } });

    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain('guess');
  });

  it('lets the password in, whatever the user name', async () => {
    const response = await web.app.request('/api/servers', { headers: { authorization: basic('anyone', PASSWORD) } });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ servers: [] });
  });
});
