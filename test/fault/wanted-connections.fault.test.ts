import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { type System, startSystem } from '../support/system.ts';
import { type WebApi, webApi } from '../support/web-api.ts';

/**
 * Wanted vs observed across an IRC service restart: the connections the operator wants come back by
 * themselves, paced per host, and the one the operator disconnected stays disconnected.
 */
describe.skipIf(lacks('ngircd'))('IRC service restart: wanted connections restored', () => {
  let system: System;
  let api: WebApi;

  beforeAll(async () => {
    system = await startSystem({ env: { RECONNECT_STAGGER_MS: '20' } });
    api = webApi(system.web.url);
    await api.settled();
  });
  afterAll(() => system?.dispose());

  async function liveIds(): Promise<number[]> {
    const response = await system.internalFetch(`${system.irc.url}/internal/irc/status`);
    return (await response.json()).connections;
  }

  async function connectedIds(): Promise<number[]> {
    const rows = await system.db.query<{ id: number }>(
      'select id from servers where connected_at is not null order by id',
    );
    return rows.map((row) => row.id);
  }

  it('brings back every wanted connection with its channel, and never the one the operator disconnected', async () => {
    const wanted: number[] = [];
    for (let index = 0; index < 12; index += 1) {
      const id = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: `wanted${index}` });
      await api.connect(id);
      wanted.push(id);
    }
    await api.join(wanted[0]!, '#kept');
    const unwanted = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: 'unwanted' });
    await api.connect(unwanted);
    await eventually(async () => (await liveIds()).length === 13, 10_000);
    const disconnected = await fetch(`${system.web.url}/api/servers/${unwanted}/disconnect`, { method: 'POST' });
    expect(disconnected.status).toBe(202);
    await eventually(async () => !(await liveIds()).includes(unwanted));

    await system.irc.signal('SIGKILL');
    await eventually(async () => (await connectedIds()).length === 0, 5_000);
    await system.irc.start();

    await eventually(async () => (await liveIds()).length === wanted.length, 15_000);
    expect(await liveIds()).toEqual(wanted);
    await eventually(async () => (await connectedIds()).length === wanted.length, 5_000);
    expect(await connectedIds()).toEqual(wanted);
    await eventually(async () => {
      const [row] = await system.db.query<{ joined: boolean }>(
        `select joined from channels where server_id = $1 and name = '#kept'`,
        [wanted[0]],
      );
      return row?.joined;
    }, 5_000);
    const [unwantedRow] = await system.db.query<{ autoconnect: boolean; connected_at: Date | null }>(
      'select autoconnect, connected_at from servers where id = $1',
      [unwanted],
    );
    expect(unwantedRow).toEqual({ autoconnect: false, connected_at: null });
  });

  it('closes a live connection whose server was deleted while the web side could not say so', async () => {
    const id = await api.createServer({ host: system.ircd.host, port: system.ircd.port, nickname: 'orphan' });
    await api.connect(id);
    await eventually(async () => (await liveIds()).includes(id), 5_000);
    // deleted behind the web side's back: no DELETE reaches the IRC service
    await system.db.query('delete from servers where id = $1', [id]);

    await api.checkNow();

    await eventually(async () => !(await liveIds()).includes(id), 5_000);
  });
});
