import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.ts';
import { eventually, PROJECT_ROOT } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { startScriptedIrcServer } from '../support/scripted-irc-server.ts';
import { type System, startSystem } from '../support/system.ts';

/**
 * The whole system for real: PostgreSQL, ngircd, the IRC service and the web side as processes, and the
 * dashboard in headless Chromium. Each step builds on the one before, as an operator's session would.
 */
describe.skipIf(lacks('ngircd', 'chromium'))('dashboard, end to end', () => {
  let system: System;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let serverId: number;

  beforeAll(async () => {
    system = await startSystem();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(system.web.url);
  });

  afterAll(async () => {
    await browser?.close();
    await system?.dispose();
  });

  const server = () => page.locator('[data-testid="server"]').first();
  const serverState = () => server().locator('[data-testid="server-state"]');

  async function databasePicture() {
    const [row] = await system.db.query<{ connected_at: Date | null; joined: number; users: number }>(
      `select s.connected_at,
         (select count(*)::int from channels c where c.server_id = s.id and c.joined) as joined,
         (select count(*)::int from channel_users u join channels c on c.id = u.channel_id where c.server_id = s.id) as users
       from servers s where s.id = $1`,
      [serverId],
    );
    return row!;
  }

  it('adds a server and connects it from the page', async () => {
    await expect.poll(() => page.locator('[data-testid="supervisor-state"]').textContent()).toBe('healthy');
    const form = page.locator('[data-testid="add-server"]');
    await form.locator('input[name="name"]').fill('Test network');
    await form.locator('input[name="host"]').fill(system.ircd.host);
    await form.locator('input[name="port"]').fill(String(system.ircd.port));
    await form.locator('input[name="nickname"]').fill('dashboard');
    await form.locator('input[name="tls"]').uncheck();
    await form.locator('button[type="submit"]').click();
    await server().waitFor();
    serverId = Number(await server().getAttribute('data-server-id'));

    await server().locator('[data-testid="connect"]').click();

    await expect.poll(() => serverState().textContent(), { timeout: 5_000 }).toBe('connected');
    expect((await databasePicture()).connected_at).not.toBeNull();
  });

  it('joins #test and shows its user count', async () => {
    await server().locator('[data-testid="join-form"] input').fill('#test');
    await server().locator('[data-testid="join-form"] button').click();

    const channel = server().locator('[data-testid="channel"][data-channel="#test"]');
    await expect.poll(() => channel.getAttribute('data-joined'), { timeout: 5_000 }).toBe('true');
    await expect.poll(() => channel.locator('[data-testid="user-count"]').textContent()).toBe('1 user');
    expect(await databasePicture()).toMatchObject({ joined: 1, users: 1 });
  });

  it('shows the server disconnected within 2 s of the IRC service being killed, and the database agrees', async () => {
    const killedAt = Date.now();
    await system.irc.signal('SIGKILL');

    await expect.poll(() => serverState().textContent(), { timeout: 2_000, interval: 50 }).toBe('disconnected');
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    expect(await databasePicture()).toEqual({ connected_at: null, joined: 0, users: 0 });
    await expect.poll(() => page.locator('[data-testid="banner-degraded"]').isVisible()).toBe(true);
  });

  it('sees the supervisor healthy again when the IRC service comes back, and the wanted server reconnected', async () => {
    await system.irc.start();

    await expect
      .poll(() => page.locator('[data-testid="supervisor-state"]').textContent(), { timeout: 5_000 })
      .toBe('healthy');
    await expect.poll(() => page.locator('[data-testid="banner-degraded"]').isVisible()).toBe(false);
    // the operator wanted it connected: it comes back without a click, with its channel
    await expect.poll(() => serverState().textContent(), { timeout: 5_000 }).toBe('connected');
    const channel = server().locator('[data-testid="channel"][data-channel="#test"]');
    await expect.poll(() => channel.getAttribute('data-joined'), { timeout: 5_000 }).toBe('true');
  });

  it('keeps the server connected across a restart of the web process', async () => {
    const connectedAt = (await databasePicture()).connected_at;

    await system.web.signal('SIGTERM');
    await expect.poll(() => page.locator('[data-testid="banner-stream"]').isVisible()).toBe(true);
    await system.web.start();
    const { state } = await eventually(async () => {
      const health = await (await fetch(`${system.web.url}/api/health-check`)).json();
      return health.lastReport ? health : undefined;
    });
    await page.reload();

    expect(state).toBe('healthy');
    await expect.poll(() => serverState().textContent()).toBe('connected');
    expect((await databasePicture()).connected_at).toEqual(connectedAt);

    await mkdir(`${PROJECT_ROOT}/test-results`, { recursive: true });
    await page.screenshot({ path: `${PROJECT_ROOT}/test-results/dashboard.png`, fullPage: true });
  });

  it('disconnects from the page, and the server stays disconnected', async () => {
    await server().locator('[data-testid="disconnect"]').click();

    await expect.poll(() => serverState().textContent(), { timeout: 5_000 }).toBe('disconnected');
    const status = await system.internalFetch(`${system.irc.url}/internal/irc/status`);
    expect(await status.json()).toEqual({ connections: [] });
    const [row] = await system.db.query<{ autoconnect: boolean; connected_at: Date | null }>(
      'select autoconnect, connected_at from servers where id = $1',
      [serverId],
    );
    expect(row).toEqual({ autoconnect: false, connected_at: null });
    expect(await server().locator('[data-testid="disconnect"]').isDisabled()).toBe(true);
    expect(await server().locator('[data-testid="connect"]').isEnabled()).toBe(true);
  });

  it('shows a banned server failed with the reason, and Connect from the page tries once more', async () => {
    const banning = await startScriptedIrcServer((line, client) => {
      if (line.startsWith('USER ')) client.close(['ERROR :Closing Link: 127.0.0.1 (K-lined: no bots)']);
    });
    try {
      const created = await fetch(`${system.web.url}/api/servers`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'Banning network', host: banning.host, port: banning.port, nickname: 'banme' }),
      });
      const { id } = (await created.json()) as { id: number };
      await page.reload();
      const banned = page.locator(`[data-testid="server"][data-server-id="${id}"]`);

      await banned.locator('[data-testid="connect"]').click();

      const failure = banned.locator('[data-testid="failure"]');
      await expect.poll(() => failure.textContent(), { timeout: 5_000 }).toContain('K-lined: no bots');
      expect(await banned.locator('[data-testid="server-state"]').textContent()).toBe('disconnected');
      await banned.locator('[data-testid="connect"]').click();
      await banning.waitForAccepted(2);
    } finally {
      await banning.dispose();
    }
  });
});
