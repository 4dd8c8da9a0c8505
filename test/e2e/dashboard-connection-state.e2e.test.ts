/**
 * The dashboard in Chromium against an in-process web app whose `/events` publisher the test drives: how
 * a connection's state reads, wanted vs observed, what is pending, the live machine diagram, and that a
 * stream of events never disturbs what an operator is typing.
 */
import { serve } from '@hono/node-server';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { type ListeningServer, listen } from '../../src/process/listen.ts';
import type { ConnectionView } from '../../src/shared/web-events.ts';
import { launchBrowser } from '../support/browser.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { lacks } from '../support/requirements.ts';
import { insertServer } from '../web/fixtures.ts';
import { assembleWeb } from '../web/web-harness.ts';

describe.skipIf(lacks('chromium'))('dashboard: connection states, pending wishes and the live diagram', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let closeDatabase: () => Promise<void>;
  let web: ReturnType<typeof assembleWeb>;
  let server: ListeningServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let serverId: number;

  beforeAll(async () => {
    ({ db, orm, close: closeDatabase } = await createTestOrm());
    // the row as the IRC service left it: wanted and connected, nickname `nick`, #ops joined
    serverId = await insertServer(db, { channels: [{ name: '#ops', users: ['nick', 'alice'] }] });
    await db.query("update servers set nickname = 'nick', autoconnect = true where id = $1", [serverId]);
    web = assembleWeb(orm);
    server = await listen(serve, web.app, '127.0.0.1', 0);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(server.url);
    await card().waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await web?.close();
    await closeDatabase?.();
  });

  const card = () => page.locator(`[data-testid="server"][data-server-id="${serverId}"]`);
  const text = (testid: string) => card().locator(`[data-testid="${testid}"]`).textContent();

  function publishConnection(connection: ConnectionView | null) {
    web.events.publish('connection-state', { serverId, connection });
  }

  it('without a reported connection, says what the rows say: wanted vs observed, for the server and each channel', async () => {
    expect(await text('connection-state')).toMatch(/^connected since /);
    expect(await text('wanted-observed')).toBe('wanted: connected · observed: connected');
    const channel = card().locator('[data-testid="channel"][data-channel="#ops"]');
    expect(await channel.locator('[data-testid="channel-status"]').textContent()).toBe('wanted, joined');
    expect(await channel.locator('[data-testid="user-count"]').textContent()).toBe('2 users');
    expect(await card().locator('[data-testid="pending"]').isVisible()).toBe(false);
  });

  it('shows a reconnecting connection with its attempt, the time to the next one and the reason', async () => {
    publishConnection({
      state: 'reconnecting',
      since: new Date().toISOString(),
      nickname: 'nick',
      attempt: 3,
      nextAttemptAt: new Date(Date.now() + 8_000).toISOString(),
      lastError: { message: 'connect ECONNREFUSED 127.0.0.1:16668', at: new Date().toISOString() },
    });

    await expect
      .poll(() => text('connection-state'))
      .toMatch(/^reconnecting, attempt 3, next in [5-8] s: connect ECONNREFUSED 127\.0\.0\.1:16668$/);
  });

  it('shows the nickname in use beside the one wanted', async () => {
    publishConnection({
      state: 'socket.registered',
      since: new Date().toISOString(),
      nickname: 'nick_',
      attempt: 0,
      nextAttemptAt: null,
      lastError: null,
    });

    await expect.poll(() => text('connection-state')).toBe('registered as nick_ (wanted nick)');
  });

  it('opens the connection machine drawn from its definition, and moves the highlight as the state changes', async () => {
    await card().locator('[data-testid="machine"]').click();
    const diagram = card().locator('[data-testid="machine-diagram"]');
    const current = () => diagram.locator('.state.current').getAttribute('data-state');
    const machine = await (await fetch(`${server.url}/api/machines/irc-connection`)).json();

    // every state and transition of the definition is drawn
    expect(await diagram.locator('[data-state]').count()).toBe(machine.states.length);
    expect(await diagram.locator('.edge').count()).toBe(machine.transitions.length);
    expect(await current()).toBe('socket.registered');
    expect(await diagram.locator('[data-state="socket"]').getAttribute('class')).toContain('active');

    publishConnection({
      state: 'reconnecting',
      since: new Date().toISOString(),
      nickname: 'nick',
      attempt: 1,
      nextAttemptAt: new Date(Date.now() + 1_000).toISOString(),
      lastError: { message: 'Ping timeout (60000 ms)', at: new Date().toISOString() },
    });

    await expect.poll(current).toBe('reconnecting');
    expect(await diagram.locator('[data-testid="diagram-current"]').textContent()).toBe(
      'Now in reconnecting. From here:',
    );
    expect(await diagram.locator('[data-testid="diagram-next"] li').allTextContents()).toContain(
      'after(reconnectDelay), CONFIGURE [else] → socket.connecting',
    );
  });

  it('keeps what the operator types, and the focus, through 20 events on that server', async () => {
    const input = card().locator('[data-testid="join-form"] input');
    await input.click();
    await input.pressSequentially('#half-typ');

    for (let event = 0; event < 20; event += 1) {
      web.events.publish('channel', {
        serverId,
        channelId: 10_000 + event,
        name: `#busy${event}`,
        joined: true,
        userCount: event,
      });
      publishConnection({
        state: event % 2 ? 'socket.registered' : 'socket.connecting',
        since: new Date().toISOString(),
        nickname: 'nick',
        attempt: event,
        nextAttemptAt: null,
        lastError: null,
      });
    }
    await expect.poll(() => card().locator('[data-testid="channel"]').count()).toBe(21);

    expect(await input.inputValue()).toBe('#half-typ');
    expect(await input.evaluate((node) => node === document.activeElement)).toBe(true);
    await page.keyboard.type('ed');
    expect(await input.inputValue()).toBe('#half-typed');
  });

  it('shows a refused channel name beside the channel box, and keeps what was typed', async () => {
    const input = card().locator('[data-testid="join-form"] input');
    await input.fill('no spaces');

    await card().locator('[data-testid="join-form"] button').click();

    await expect
      .poll(() => card().locator('[data-testid="join-error"]').textContent())
      .toMatch(/^name: expected a channel name/);
    expect(await input.inputValue()).toBe('no spaces');
    expect(await page.locator('[data-testid="banner-error"]').isVisible()).toBe(false);
  });

  it('says what is pending while a wish could not be passed on to the IRC service, and keeps every action', async () => {
    await db.query(
      "update servers set connected_at = null, pending_since = now(), pending_reason = 'the IRC service is unreachable' where id = $1",
      [serverId],
    );
    publishConnection(null);
    web.events.publish('server-status', {
      serverId,
      connected: false,
      connectedAt: null,
      pending: { since: new Date().toISOString(), reason: 'the IRC service is unreachable' },
    });

    await expect
      .poll(() => text('pending'))
      .toBe('will connect when the IRC service is back: the IRC service is unreachable');
    expect(await card().locator('[data-testid="pending"]').getAttribute('title')).toMatch(/^pending since /);
    expect(await text('wanted-observed')).toBe('wanted: connected · observed: disconnected (converging)');
    expect(await text('connection-state')).toBe('waiting for the connection');
    for (const action of ['connect', 'disconnect', 'part', 'delete']) {
      expect(await card().locator(`[data-testid="${action}"]`).first().isEnabled(), action).toBe(true);
    }
  });
});
