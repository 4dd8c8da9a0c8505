import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/process/free-port.ts';
import { launchBrowser } from '../support/browser.ts';
import { connectObserver } from '../support/irc-observer.ts';
import { PROJECT_ROOT } from '../support/process.ts';
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
  /** What the page asked for and did not get (the favicon once was one). */
  const notFound: string[] = [];

  beforeAll(async () => {
    system = await startSystem();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('response', (response) => {
      if (response.status() === 404) notFound.push(response.url());
    });
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
    // the form's defaults are the API's: no TLS, port 6667
    expect(await form.locator('input[name="tls"]').isChecked()).toBe(false);
    expect(await form.locator('input[name="port"]').inputValue()).toBe('6667');
    await form.locator('input[name="name"]').fill('Test network');
    await form.locator('input[name="host"]').fill(system.ircd.host);
    await form.locator('input[name="port"]').fill(String(system.ircd.port));
    await form.locator('input[name="nickname"]').fill('dashboard');
    await form.locator('button[type="submit"]').click();
    await server().waitFor();
    serverId = Number(await server().getAttribute('data-server-id'));

    await server().locator('[data-testid="connect"]').click();

    await expect.poll(() => serverState().textContent(), { timeout: 5_000 }).toBe('connected');
    expect((await databasePicture()).connected_at).not.toBeNull();
    expect(notFound).toEqual([]);
    // one IRC service node: one line in the nodes panel, without a Drain (its servers would have nowhere to go)
    const node = page.locator('[data-testid="node"]');
    const nodeName = `node-${system.irc.port}`;
    // counted at the node's next check
    await page.locator('[data-testid="check-now"]').click();
    await expect.poll(() => node.locator('[data-testid="node-connections"]').textContent()).toBe('1 connection');
    expect(await page.locator('#nodes-title').textContent()).toBe('IRC service node');
    expect(await node.count()).toBe(1);
    expect(await node.getAttribute('data-node')).toBe(nodeName);
    expect(await node.getAttribute('data-state')).toBe('healthy');
    expect(await node.locator('[data-testid="drain"]').isVisible()).toBe(false);
    expect(await server().locator('[data-testid="server-node"]').textContent()).toBe(`on ${nodeName}`);
  });

  it('joins #test and shows its user count', async () => {
    await server().locator('[data-testid="join-form"] input').fill('#test');
    await server().locator('[data-testid="join-form"] button').click();

    const channel = server().locator('[data-testid="channel"][data-channel="#test"]');
    await expect.poll(() => channel.getAttribute('data-joined'), { timeout: 5_000 }).toBe('true');
    await expect.poll(() => channel.locator('[data-testid="user-count"]').textContent()).toBe('1 user');
    expect(await databasePicture()).toMatchObject({ joined: 1, users: 1 });
  });

  it('keeps what the operator types in a channel box, and the focus, through 20 events on that server', async () => {
    const observer = await connectObserver(system.ircd, 'busyuser');
    await observer.join('#test');
    const input = server().locator('[data-testid="join-form"] input');
    await input.click();
    await input.pressSequentially('#half-typ');
    // a second listener on the page's own origin counts the channel events the page receives
    await page.evaluate((id) => {
      const counter = window as unknown as { channelEvents: number };
      counter.channelEvents = 0;
      new EventSource('/events').addEventListener('channel', (message) => {
        if (JSON.parse(message.data).serverId === id) counter.channelEvents += 1;
      });
    }, serverId);

    // 20 users' comings and goings, each a channel event for this server
    for (let cycle = 0; cycle < 10; cycle += 1) {
      observer.send('PART #test');
      observer.send('JOIN #test');
    }
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { channelEvents: number }).channelEvents), {
        timeout: 10_000,
      })
      .toBeGreaterThanOrEqual(20);
    const channel = server().locator('[data-testid="channel"][data-channel="#test"]');
    await expect.poll(() => channel.locator('[data-testid="user-count"]').textContent()).toBe('2 users');

    expect(await input.inputValue()).toBe('#half-typ');
    expect(await input.evaluate((node) => node === document.activeElement)).toBe(true);
    await page.keyboard.type('ed');
    expect(await input.inputValue()).toBe('#half-typed');
    await input.fill('');
    observer.close();
  });

  it("opens the connection's machine diagram with the state the API reports highlighted", async () => {
    await server().locator('[data-testid="machine"]').click();
    const diagram = server().locator('[data-testid="machine-diagram"]');
    await diagram.locator('svg').waitFor();
    const reported = async () => {
      const view = await (await fetch(`${system.web.url}/api/servers/${serverId}`)).json();
      return (view.connection?.state as string | undefined) ?? null;
    };
    const highlighted = async () =>
      (await diagram.locator('.state.current').count()) === 0
        ? null
        : await diagram.locator('.state.current').getAttribute('data-state');

    await expect.poll(async () => (await highlighted()) === (await reported())).toBe(true);
    expect(await highlighted()).toBe('socket.registered');
    expect(await diagram.locator('[data-state="socket.registered"]').count()).toBe(1);
    await server().locator('[data-testid="machine"]').click();
  });

  it('says why a server on a refused port is not connected, and its diagram highlights the state the API reports', async () => {
    // nothing listens on a port freePort has just handed back: every connect is refused
    const closedPort = await freePort();
    const form = page.locator('[data-testid="add-server"]');
    await form.locator('input[name="name"]').fill('Refused network');
    await form.locator('input[name="host"]').fill('127.0.0.1');
    await form.locator('input[name="port"]').fill(String(closedPort));
    await form.locator('input[name="nickname"]').fill('refused');
    await form.locator('button[type="submit"]').click();
    const refused = page.locator('[data-testid="server"][data-name="Refused network"]');
    await refused.waitFor();
    const refusedId = Number(await refused.getAttribute('data-server-id'));

    await refused.locator('[data-testid="connect"]').click();

    await expect
      .poll(() => refused.locator('[data-testid="connection-state"]').textContent(), { timeout: 10_000 })
      .toMatch(
        new RegExp(`^reconnecting, attempt \\d+, next in \\d+ s: connect ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}$`),
      );
    expect(await refused.locator('[data-testid="server-state"]').textContent()).toBe('disconnected');
    expect(await refused.locator('[data-testid="connection-state"]').getAttribute('class')).toContain('has-error');

    await refused.locator('[data-testid="machine"]').click();
    const diagram = refused.locator('[data-testid="machine-diagram"]');
    await diagram.locator('svg').waitFor();
    const reported = async () => {
      const view = await (await fetch(`${system.web.url}/api/servers/${refusedId}`)).json();
      return (view.connection?.state as string | undefined) ?? null;
    };
    const highlighted = () => diagram.locator('.state.current').getAttribute('data-state');
    // it waits in reconnecting between two short attempts: the page and the API agree there
    await expect
      .poll(async () => [await highlighted(), await reported()], { timeout: 10_000 })
      .toEqual(['reconnecting', 'reconnecting']);
    expect(await diagram.locator('.state.current').count()).toBe(1);
    // the registered server's card is unaffected
    expect(await serverState().textContent()).toBe('connected');
    await refused.locator('[data-testid="machine"]').click();
  });

  it("opens the health supervisor's machine with its state highlighted, and lists each check as it runs", async () => {
    await page.locator('[data-testid="supervisor-machine"]').click();
    const diagram = page.locator('[data-testid="supervisor-diagram"]');
    const checks = page.locator('[data-testid="check"]');
    await expect.poll(() => diagram.locator('.state.current').getAttribute('data-state')).toBe('healthy');
    const before = await checks.count();

    await page.locator('[data-testid="check-now"]').click();

    await expect.poll(() => checks.count()).toBe(before + 1);
    expect(await checks.first().getAttribute('data-outcome')).toBe('answered');
    expect(await checks.first().locator('td').allTextContents()).toEqual([
      expect.any(String),
      'answered',
      expect.stringMatching(/^\d+ ms$/),
      '0',
      '0',
    ]);
    await page.locator('[data-testid="supervisor-machine"]').click();
  });

  it('edits the server from the page: a bad port is refused beside the port field, with what was typed kept', async () => {
    await server().locator('[data-testid="edit"]').click();
    const form = server().locator('[data-testid="edit-form"]');
    await form.locator('input[name="name"]').fill('Renamed network');
    await form.locator('input[name="port"]').fill('70000');
    await form.locator('[data-testid="save"]').click();

    const portError = form.locator('[data-field-error="port"]');
    await expect.poll(() => portError.textContent()).toMatch(/^port: /);
    expect(await form.locator('input[name="name"]').inputValue()).toBe('Renamed network');
    expect(await form.isVisible()).toBe(true);
    const [before] = await system.db.query<{ name: string; port: number }>(
      'select name, port from servers where id = $1',
      [serverId],
    );
    expect(before).toEqual({ name: 'Test network', port: system.ircd.port });

    await form.locator('input[name="port"]').fill(String(system.ircd.port));
    await form.locator('[data-testid="save"]').click();

    await expect.poll(() => server().locator('[data-testid="server-name"]').textContent()).toBe('Renamed network');
    expect(await form.isVisible()).toBe(false);
    const [after] = await system.db.query<{ name: string }>('select name from servers where id = $1', [serverId]);
    expect(after).toEqual({ name: 'Renamed network' });
    // a name is no connection setting: the connection stays up
    expect(await serverState().textContent()).toBe('connected');
  });

  it('shows the server disconnected within 2 s of the IRC service being killed, and the database agrees', async () => {
    const killedAt = Date.now();
    await system.irc.signal('SIGKILL');

    await expect.poll(() => serverState().textContent(), { timeout: 2_000, interval: 50 }).toBe('disconnected');
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    expect(await databasePicture()).toEqual({ connected_at: null, joined: 0, users: 0 });
    await expect.poll(() => page.locator('[data-testid="banner-degraded"]').isVisible()).toBe(true);
    // the check that found the IRC service gone is in the health panel, with the server it disconnected
    const unavailable = page.locator('[data-testid="check"][data-outcome="unavailable"]').first();
    await expect.poll(() => unavailable.count()).toBe(1);
    expect(await unavailable.locator('td').nth(3).textContent()).toBe('1');
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

  it('says plainly when its own stream is lost, turns its actions off, and recovers by itself', async () => {
    const connectedAt = (await databasePicture()).connected_at;
    const actions = () =>
      page.locator(
        '[data-testid="connect"], [data-testid="disconnect"], [data-testid="part"], [data-testid="check-now"]',
      );

    await system.web.signal('SIGTERM');

    await expect.poll(() => page.locator('[data-testid="banner-stream"]').isVisible()).toBe(true);
    expect(await page.locator('[data-testid="banner-stream"]').textContent()).toMatch(
      /Lost the connection to the web side\./,
    );
    expect(await page.locator('[data-testid="stream-state"]').textContent()).toBe('offline');
    for (const button of await actions().all()) expect(await button.isDisabled()).toBe(true);
    // changed while the page could not hear of it: the page must reload its state to see it
    await system.db.query("update servers set name = 'Changed while away' where id = $1", [serverId]);

    await system.web.start();

    await expect.poll(() => page.locator('[data-testid="banner-stream"]').isVisible(), { timeout: 10_000 }).toBe(false);
    await expect.poll(() => server().locator('[data-testid="server-name"]').textContent()).toBe('Changed while away');
    expect(await page.locator('[data-testid="stream-state"]').textContent()).toBe('live');
    expect(await server().locator('[data-testid="disconnect"]').isEnabled()).toBe(true);
    expect(await page.locator('[data-testid="check-now"]').isEnabled()).toBe(true);
    await expect.poll(() => page.locator('[data-testid="supervisor-state"]').textContent()).toBe('healthy');
    await expect.poll(() => page.locator('[data-testid="check"]').count()).toBeGreaterThan(0);
    await expect.poll(() => serverState().textContent()).toBe('connected');
    expect((await databasePicture()).connected_at).toEqual(connectedAt);

    // the picture for the README: a registered server with its channel and one refused, each with its
    // diagram open on the state the IRC service reports, and the last checks
    const edit = server().locator('[data-testid="edit-form"]');
    await server().locator('[data-testid="edit"]').click();
    await edit.locator('input[name="name"]').fill('Test network');
    await edit.locator('[data-testid="save"]').click();
    await expect.poll(() => server().locator('[data-testid="server-name"]').textContent()).toBe('Test network');
    const cards = [server(), page.locator('[data-testid="server"][data-name="Refused network"]')];
    for (const card of cards) {
      await card.locator('[data-testid="machine"]').click();
      await card.locator('[data-testid="machine-diagram"] .state.current').waitFor();
    }
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.mouse.move(0, 0);
    await mkdir(`${PROJECT_ROOT}/test/e2e/screenshots`, { recursive: true });
    await page.screenshot({ path: `${PROJECT_ROOT}/test/e2e/screenshots/dashboard.png`, fullPage: true });
    for (const card of cards) await card.locator('[data-testid="machine"]').click();
  });

  it('parts a channel from the page: the IRC network sees the PART and the channel is gone', async () => {
    const observer = await connectObserver(system.ircd, 'partwatch');
    await observer.join('#test');

    await server().locator('[data-testid="channel"][data-channel="#test"] [data-testid="part"]').click();

    await observer.waitForLine(/^:dashboard!\S* PART #test/i);
    await expect.poll(() => server().locator('[data-testid="channel"][data-channel="#test"]').count()).toBe(0);
    expect(await system.db.query('select name from channels where server_id = $1', [serverId])).toEqual([]);
    observer.close();
  });

  it('disconnects from the page, and the server stays disconnected', async () => {
    await server().locator('[data-testid="disconnect"]').click();

    await expect.poll(() => serverState().textContent(), { timeout: 5_000 }).toBe('disconnected');
    const status = await system.internalFetch(`${system.irc.url}/internal/irc/status`);
    expect(await status.json()).toEqual({ node: expect.any(String), connections: [] });
    const [row] = await system.db.query<{ autoconnect: boolean; connected_at: Date | null }>(
      'select autoconnect, connected_at from servers where id = $1',
      [serverId],
    );
    expect(row).toEqual({ autoconnect: false, connected_at: null });
    expect(await server().locator('[data-testid="disconnect"]').isDisabled()).toBe(true);
    expect(await server().locator('[data-testid="connect"]').isEnabled()).toBe(true);
    // not wanted: placed on no node, and the card names none
    expect(await server().locator('[data-testid="server-node"]').isVisible()).toBe(false);
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
