import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { openSse, type SseClient, type SseEvent } from '../support/sse-client.ts';
import { type SideProcess, type System, startSystem } from '../support/system.ts';
import { type WebApi, webApi } from '../support/web-api.ts';

/**
 * Two web instances on one database and one IRC service: one reconciler per check (advisory lock), and
 * every change reaches the browsers of both instances once (LISTEN/NOTIFY), whichever instance made it.
 */
describe.skipIf(lacks('ngircd'))('two web instances at once', () => {
  let system: System;
  let second: SideProcess;
  let apis: WebApi[];
  let browsers: SseClient[];

  beforeAll(async () => {
    system = await startSystem();
    second = await system.startAnotherWeb();
    apis = [webApi(system.web.url), webApi(second.url)];
    await Promise.all(apis.map((api) => api.settled()));
    browsers = await Promise.all([openSse(`${system.web.url}/events`), openSse(`${second.url}/events`)]);
  });
  afterAll(async () => {
    for (const browser of browsers ?? []) browser.close();
    await system?.dispose();
  });

  const statusOf = (serverId: number) => (event: SseEvent) =>
    event.type === 'server-status' && (event.data as { serverId: number }).serverId === serverId;

  it('reconciles a stale server once when both check at the same time, and both dashboards hear it once', async () => {
    const [row] = await system.db.query<{ id: number }>(
      `insert into servers (name, host, port, nickname, connected_at)
       values ('stale', 'irc.invalid', 6667, 'ghost', now() - interval '1 hour') returning id`,
    );
    const staleId = row!.id;

    const reports = await Promise.all(apis.map((api) => api.checkNow()));

    const reconcilers = reports.filter((report) => report.disconnected.includes(staleId));
    expect(reconcilers).toHaveLength(1);
    for (const browser of browsers) await browser.waitFor(statusOf(staleId));
    await apis[0]!.checkNow(); // a later event on the streams proves nothing more came for the stale server
    for (const browser of browsers) expect(browser.events.filter(statusOf(staleId))).toHaveLength(1);
  });

  it('applies an IRC event that both instances consume once, and both dashboards hear it once', async () => {
    const serverId = await apis[0]!.createServer({
      host: system.ircd.host,
      port: system.ircd.port,
      nickname: 'twice',
    });
    await apis[1]!.connect(serverId);

    const connected = (event: SseEvent) =>
      statusOf(serverId)(event) && (event.data as { connected: boolean }).connected;
    for (const browser of browsers) await browser.waitFor(connected, 5_000);
    await eventually(async () => {
      const rows = await system.db.query('select 1 from servers where id = $1 and connected_at is not null', [
        serverId,
      ]);
      return rows.length === 1;
    });
    await apis[1]!.checkNow();

    for (const browser of browsers) expect(browser.events.filter(connected)).toHaveLength(1);
  });
});
