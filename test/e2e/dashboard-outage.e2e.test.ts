/** The dashboard in Chromium while the IRC service is down: wishes kept and said in words, no action disabled. */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.ts';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { type System, startSystem } from '../support/system.ts';
import { type WebApi, webApi } from '../support/web-api.ts';

/**
 * An operator's session across an outage of the IRC service, every part real (PostgreSQL, ngircd, both
 * sides as processes, headless Chromium), with a second user on the network watching the channels. Each
 * step builds on the one before.
 */
describe.skipIf(lacks('ngircd', 'chromium'))('dashboard, end to end, with the IRC service down', () => {
  let system: System;
  let api: WebApi;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let observer: IrcObserver;
  let serverId: number;

  beforeAll(async () => {
    system = await startSystem();
    api = webApi(system.web.url);
    await api.settled();
    observer = await connectObserver(system.ircd, 'onlooker');
    for (const channel of ['#leave-now', '#leave-later', '#join-later']) await observer.join(channel);
    serverId = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: 'outage' });
    await api.connect(serverId);
    await api.join(serverId, '#leave-now');
    await api.join(serverId, '#leave-later');
    await observer.waitForLine(/^:outage!\S+ JOIN :?#leave-later/i, 10_000);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(system.web.url);
  });

  afterAll(async () => {
    observer?.close();
    await browser?.close();
    await system?.dispose();
  });

  const server = () => page.locator(`[data-testid="server"][data-server-id="${serverId}"]`);
  const channel = (name: string) => server().locator(`[data-testid="channel"][data-channel="${name}"]`);
  const button = (testid: string) => server().locator(`[data-testid="${testid}"]`);
  const joinButton = () => server().locator('[data-testid="join-form"] button');
  /** What the IRC network has seen `outage` do in a channel (JOIN, PART) so far. */
  const seen = (command: 'JOIN' | 'PART', name: string) =>
    observer.lines.filter((line) => new RegExp(`^:outage!\\S+ ${command} :?${name}( |$)`, 'i').test(line)).length;

  async function channelRow(name: string) {
    const [row] = await system.db.query<{ wanted: boolean; joined: boolean }>(
      'select wanted, joined from channels where server_id = $1 and name = $2',
      [serverId, name],
    );
    return row;
  }

  it('parts a channel with its Part button: gone from the page and the database, and the network sees the PART', async () => {
    await expect.poll(() => channel('#leave-now').getAttribute('data-joined'), { timeout: 5_000 }).toBe('true');

    await channel('#leave-now').locator('[data-testid="part"]').click();

    await observer.waitForLine(/^:outage!\S+ PART #leave-now/i, 5_000);
    await expect.poll(() => channel('#leave-now').count(), { timeout: 5_000 }).toBe(0);
    expect(await channelRow('#leave-now')).toBeUndefined();
  });

  it('says what it will do when the IRC service is back, and disables no action because it is down', async () => {
    await system.irc.signal('SIGKILL');
    await expect
      .poll(() => button('server-state').textContent(), { timeout: 5_000, interval: 50 })
      .toBe('disconnected');
    await expect.poll(() => page.locator('[data-testid="banner-degraded"]').isVisible()).toBe(true);

    await button('connect').click();

    await expect
      .poll(() => button('pending').textContent(), { timeout: 5_000 })
      .toMatch(/^will connect when the IRC service is back: \S/);
    for (const action of [
      button('connect'),
      button('disconnect'),
      joinButton(),
      channel('#leave-later').locator('button'),
    ]) {
      expect(await action.isEnabled()).toBe(true);
    }
    expect(await system.db.query('select autoconnect from servers where id = $1', [serverId])).toEqual([
      { autoconnect: true },
    ]);
  });

  it('keeps a join and a part made from the page while the IRC service is down', async () => {
    await server().locator('[data-testid="join-form"] input').fill('#join-later');
    await joinButton().click();
    await channel('#leave-later').locator('[data-testid="part"]').click();

    await expect.poll(() => channel('#join-later').getAttribute('data-wanted'), { timeout: 5_000 }).toBe('true');
    expect(await channel('#join-later').getAttribute('data-joined')).toBe('false');
    // parting: not wanted any more; gone once the IRC service has been told
    await expect.poll(() => channel('#leave-later').getAttribute('data-wanted'), { timeout: 5_000 }).toBe('false');
    expect(await channel('#leave-later').textContent()).toContain('parting');
    expect(await channelRow('#leave-later')).toEqual({ wanted: false, joined: false });
    expect(await channelRow('#join-later')).toEqual({ wanted: true, joined: false });
  });

  it('converges when the IRC service is back: connected, the join made, the part kept, nothing pending', async () => {
    await system.irc.start();

    await expect.poll(() => button('server-state').textContent(), { timeout: 15_000 }).toBe('connected');
    await expect.poll(() => channel('#join-later').getAttribute('data-joined'), { timeout: 10_000 }).toBe('true');
    await expect.poll(() => channel('#leave-later').count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => button('pending').isVisible(), { timeout: 5_000 }).toBe(false);
    await eventually(() => seen('JOIN', '#join-later') === 1, 5_000);
    expect(await channelRow('#join-later')).toEqual({ wanted: true, joined: true });
    expect(await channelRow('#leave-later')).toBeUndefined();
    // the connection that came back joined what was wanted, and never the channel parted during the outage
    expect(seen('JOIN', '#leave-later')).toBe(1);
    expect(seen('JOIN', '#leave-now')).toBe(1);
  });
});
