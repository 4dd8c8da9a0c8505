/** The dashboard of a cluster in Chromium: the nodes panel live, and where each server went after a crash and a drain. */
import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.ts';
import { everyServerConnected, placements } from '../support/cluster.ts';
import { PROJECT_ROOT } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { FAST_CLUSTER_ENV, nodeName, type SideProcess, type System, startSettledSystem } from '../support/system.ts';
import type { WebApi } from '../support/web-api.ts';

/** Servers on each node before the crash, so that the crash and the drain both have some to move. */
const PER_NODE = 2;

/**
 * An operator's view of three IRC service nodes, every part real (PostgreSQL, ngircd, three IRC service
 * processes, the web side, headless Chromium). Each step builds on the one before: a node killed, then one
 * drained from the panel, then the last one refused.
 */
describe.skipIf(lacks('ngircd', 'chromium'))('dashboard, end to end, with three IRC service nodes', () => {
  let system: System;
  let api: WebApi;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;

  beforeAll(async () => {
    ({ system, api } = await startSettledSystem({ ircNodes: 3, env: FAST_CLUSTER_ENV }));
    // placed in the wish's transaction: add servers until each node has its share
    for (let index = 0; index < 30; index += 1) {
      const placed = await placements(system);
      if (system.ircNodes.every((node) => placed.filter((row) => row.irc_node === nodeName(node)).length >= PER_NODE)) {
        break;
      }
      const id = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: `spread${index}` });
      await api.connect(id);
    }
    await everyServerConnected(system);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(system.web.url);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await system?.dispose();
  });

  const nodeRow = (node: SideProcess) => page.locator(`[data-testid="node"][data-node="${nodeName(node)}"]`);
  const card = (serverId: number) => page.locator(`[data-testid="server"][data-server-id="${serverId}"]`);
  /** Each server's card as the page shows it: the node it names, and connected or not. */
  async function cardsShown(ids: readonly number[]) {
    return Promise.all(
      ids.map(async (id) => ({
        id,
        node: await card(id).getAttribute('data-node'),
        state: await card(id).locator('[data-testid="server-state"]').textContent(),
      })),
    );
  }

  it('lists every node healthy with its connections, and each card names its node', async () => {
    const placed = await placements(system);

    await expect.poll(() => page.locator('[data-testid="node"]').count()).toBe(3);
    expect(await page.locator('#nodes-title').textContent()).toBe('IRC service nodes (3)');
    for (const node of system.ircNodes) {
      const count = placed.filter((row) => row.irc_node === nodeName(node)).length;
      await expect.poll(() => nodeRow(node).getAttribute('data-state')).toBe('healthy');
      // counted at a node's next answered check
      await expect
        .poll(() => nodeRow(node).locator('[data-testid="node-connections"]').textContent(), { timeout: 5_000 })
        .toBe(`${count} connections`);
      expect(await nodeRow(node).locator('[data-testid="node-checked"]').textContent()).toMatch(/^checked \S/);
      expect(await nodeRow(node).locator('[data-testid="drain"]').isEnabled()).toBe(true);
      expect(await nodeRow(node).locator('[data-testid="undrain"]').isVisible()).toBe(false);
    }
    // the time of the last check moves on with each check, though the node's state and count stay the same
    const checked = nodeRow(system.ircNodes[0]!).locator('[data-testid="node-checked"]');
    const firstSeen = await checked.textContent();
    await expect.poll(() => checked.textContent(), { timeout: 5_000 }).not.toBe(firstSeen);
    await expect
      .poll(() => cardsShown(placed.map((row) => row.id)))
      .toEqual(placed.map((row) => ({ id: row.id, node: row.irc_node, state: 'connected' })));
    const [first] = placed;
    expect(await card(first!.id).locator('[data-testid="server-node"]').textContent()).toBe(`on ${first!.irc_node}`);
  });

  it('SIGKILL of a node: its row turns unavailable, and its servers show the node each came back on', async () => {
    const before = await placements(system);
    const [victim, ...survivors] = system.ircNodes as [SideProcess, SideProcess, SideProcess];
    const victims = before.filter((row) => row.irc_node === nodeName(victim)).map((row) => row.id);
    const others = before.filter((row) => row.irc_node !== nodeName(victim));
    expect(victims.length).toBeGreaterThanOrEqual(PER_NODE);

    await victim.signal('SIGKILL');

    await expect.poll(() => nodeRow(victim).getAttribute('data-state'), { timeout: 5_000 }).toBe('unavailable');
    expect(await nodeRow(victim).locator('[data-testid="node-state"]').getAttribute('class')).toBe('badge unavailable');
    await expect
      .poll(() => nodeRow(victim).locator('[data-testid="node-connections"]').textContent())
      .toBe('0 connections');
    // the banner names the node that is down, not the whole IRC service
    expect(await page.locator('[data-testid="banner-degraded"]').textContent()).toBe(
      `IRC service node ${nodeName(victim)} is unavailable: its servers are placed on the other nodes and connected there. Actions still work.`,
    );
    // each placed again on a survivor and registered there: the card names it, and the database agrees
    await expect
      .poll(
        async () =>
          (await cardsShown(victims)).every(
            (shown) => survivors.map(nodeName).includes(shown.node ?? '') && shown.state === 'connected',
          ),
        { timeout: 20_000 },
      )
      .toBe(true);
    const after = await placements(system);
    expect(await cardsShown(victims)).toEqual(
      after
        .filter((row) => victims.includes(row.id))
        .map((row) => ({ id: row.id, node: row.irc_node, state: 'connected' })),
    );
    // the others never moved
    expect(await cardsShown(others.map((row) => row.id))).toEqual(
      others.map((row) => ({ id: row.id, node: row.irc_node, state: 'connected' })),
    );
    for (const node of survivors) expect(await nodeRow(node).getAttribute('data-state')).toBe('healthy');
  }, 30_000);

  it('drains a node from the panel: the row shows draining, then no connection, and each card its new node, never disconnected', async () => {
    const live = system.ircNodes.filter((node) => node.process !== undefined) as [SideProcess, SideProcess];
    const before = await placements(system);
    const counts = live.map((node) => before.filter((row) => row.irc_node === nodeName(node)).length);
    const drained = live[counts.indexOf(Math.max(...counts))]!;
    const [other] = live.filter((node) => node !== drained) as [SideProcess];
    const moving = before.filter((row) => row.irc_node === nodeName(drained)).map((row) => row.id);
    expect(moving.length).toBeGreaterThan(0);
    // what the cards show during the drain, as the page changes them: where each is going, and any disconnect
    await page.evaluate(() => {
      const seen = { movingTo: [] as string[], disconnected: [] as string[] };
      (window as unknown as { drainSeen: typeof seen }).drainSeen = seen;
      new MutationObserver((mutations) => {
        for (const { target } of mutations) {
          const element = target instanceof Element ? target : target.parentElement;
          const server = element?.closest('[data-testid="server"]') as HTMLElement | null;
          if (!server) continue;
          if (server.dataset.movingTo) seen.movingTo.push(`${server.dataset.serverId} ${server.dataset.movingTo}`);
          const state = server.querySelector('[data-testid="server-state"]')?.textContent;
          if (state === 'disconnected') seen.disconnected.push(server.dataset.serverId ?? '');
        }
      }).observe(document.getElementById('servers')!, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      });
    });

    await nodeRow(drained).locator('[data-testid="drain"]').click();

    await expect.poll(() => nodeRow(drained).getAttribute('data-state')).toBe('draining');
    expect(await nodeRow(drained).locator('[data-testid="node-state"]').textContent()).toBe('draining');
    // Undrain instead of Drain while it drains
    expect(await nodeRow(drained).locator('[data-testid="drain"]').isVisible()).toBe(false);
    expect(await nodeRow(drained).locator('[data-testid="undrain"]').isEnabled()).toBe(true);
    await expect
      .poll(async () => (await cardsShown(moving)).every((shown) => shown.node === nodeName(other)), {
        timeout: 30_000,
      })
      .toBe(true);
    await expect
      .poll(() => nodeRow(drained).locator('[data-testid="node-connections"]').textContent(), { timeout: 10_000 })
      .toBe('0 connections');

    const seen = await page.evaluate(
      () => (window as unknown as { drainSeen: { movingTo: string[]; disconnected: string[] } }).drainSeen,
    );
    expect(seen.disconnected).toEqual([]);
    // each card said where it was going while its move was under way
    expect(new Set(seen.movingTo)).toEqual(new Set(moving.map((id) => `${id} ${nodeName(other)}`)));
    expect(await cardsShown(moving)).toEqual(moving.map((id) => ({ id, node: nodeName(other), state: 'connected' })));
    expect(
      (await placements(system))
        .filter((row) => moving.includes(row.id))
        .map((row) => [row.id, row.irc_node, row.connected_at]),
    ).toEqual(
      before.filter((row) => moving.includes(row.id)).map((row) => [row.id, nodeName(other), row.connected_at]),
    );
    expect(await card(moving[0]!).locator('[data-testid="server-node"]').textContent()).toBe(`on ${nodeName(other)}`);

    // the picture for the README: one node down, one drained and empty, every server on the last one
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.mouse.move(0, 0);
    await mkdir(`${PROJECT_ROOT}/test/e2e/screenshots`, { recursive: true });
    await page.screenshot({ path: `${PROJECT_ROOT}/test/e2e/screenshots/dashboard-cluster.png` });
  }, 45_000);

  it('refuses the drain of the last healthy node with the reason in its row, shows a drain problem, and undrains', async () => {
    const live = system.ircNodes.filter((node) => node.process !== undefined);
    const states = await Promise.all(live.map((node) => nodeRow(node).getAttribute('data-state')));
    const last = live[states.indexOf('healthy')]!;
    const drained = live[states.indexOf('draining')]!;
    const down = system.ircNodes.find((node) => node.process === undefined)!;

    await nodeRow(last).locator('[data-testid="drain"]').click();

    await expect
      .poll(() => nodeRow(last).locator('[data-testid="node-error"]').textContent())
      .toBe(
        `node ${nodeName(last)} is the last healthy IRC service node that is not draining (${nodeName(down)} unavailable): its servers would have nowhere to go`,
      );
    expect(await nodeRow(last).getAttribute('data-state')).toBe('healthy');
    // still offered: the operator may try again once another node is back
    expect(await nodeRow(last).locator('[data-testid="drain"]').isEnabled()).toBe(true);
    expect(await system.db.query('select name from irc_nodes where draining_since is not null')).toEqual([
      { name: nodeName(drained) },
    ]);

    // a move given up (recorded by any web instance) is shown in the draining node's row
    const problem = `server 1 stays on ${nodeName(drained)}: the new node did not register and join within 60000 ms`;
    await system.db.query('update irc_nodes set drain_problem = $2 where name = $1', [nodeName(drained), problem]);
    const problemLine = nodeRow(drained).locator('[data-testid="drain-problem"]');
    await expect.poll(() => problemLine.textContent(), { timeout: 5_000 }).toBe(`drain: ${problem}`);
    expect(await problemLine.isVisible()).toBe(true);

    await nodeRow(drained).locator('[data-testid="undrain"]').click();

    await expect.poll(() => nodeRow(drained).getAttribute('data-state')).toBe('healthy');
    expect(await problemLine.isVisible()).toBe(false);
    expect(await nodeRow(drained).locator('[data-testid="drain"]').isVisible()).toBe(true);
    // the refusal shown before is not in the way of the next action
    await nodeRow(last).locator('[data-testid="drain"]').click();
    await expect.poll(() => nodeRow(last).getAttribute('data-state')).toBe('draining');
    expect(await nodeRow(last).locator('[data-testid="node-error"]').textContent()).toBe('');
  });
});
