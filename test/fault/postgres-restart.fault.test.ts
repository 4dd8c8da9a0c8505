import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPostgres, startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { freePort } from '../../src/process/free-port.ts';
import {
  type ConnectionPicture,
  connectionPicture,
  type Query,
  seedConnectedServers,
} from '../support/connection-picture.ts';
import { connectLiveServer } from '../support/live-server.ts';
import { eventually, isAlive } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { openSse } from '../support/sse-client.ts';
import { type System, startSystem } from '../support/system.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { type WebApi, webApi } from '../support/web-api.ts';

const STALE = 50;
const STALE_BEFORE: ConnectionPicture = {
  connectedServers: STALE,
  joinedChannels: STALE * 2,
  channelUsers: STALE * 10,
};
const STALE_AFTER: ConnectionPicture = { connectedServers: 0, joinedChannels: 0, channelUsers: 0 };
const LIVE: ConnectionPicture = { connectedServers: 1, joinedChannels: 1, channelUsers: 1 };

/** A client whose session may be ended by the database's shutdown without crashing the test. */
async function sessionOn(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/**
 * PostgreSQL restarts under a running web process (an embedded PostgreSQL of this test's own, on a fixed
 * port so it comes back where the web side's pool expects it): the web process survives, the supervisor
 * reports the failure, the next check succeeds, and no transition is left half-done.
 */
describe.skipIf(lacks('ngircd'))('fault: PostgreSQL restarted under the web process', { timeout: 120_000 }, () => {
  let folder: Awaited<ReturnType<typeof makeTempDir>>;
  let port: number;
  let database: RunningPostgres;
  let system: System;
  let api: WebApi;
  let liveId: number;

  const query: Query = async (sql, values = []) => {
    const client = await sessionOn(database.url);
    try {
      return (await client.query(sql, values)).rows;
    } finally {
      await client.end();
    }
  };

  const startDatabase = async () => {
    database = await startEmbeddedPostgres({ dataDir: folder.path, database: 'app', port });
  };

  /**
   * PostgreSQL's immediate shutdown (SIGQUIT), as a crash: every backend exits at once without releasing its
   * locks. A fast shutdown ends the sessions one by one, so a waiter can be granted the lock its blocker just
   * dropped and commit before its own turn comes.
   */
  const crashDatabase = async () => {
    const postmaster = Number(readFileSync(join(folder.path, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGQUIT');
    await eventually(() => !isAlive(postmaster), 10_000);
  };

  beforeAll(async () => {
    folder = await makeTempDir('fault-postgres');
    port = await freePort();
    await startDatabase();
    system = await startSystem({ env: { DATABASE_URL: database.url, HEALTH_CHECK_INTERVAL_MS: '3600000' } });
    api = webApi(system.web.url);
    await api.settled(30_000);
    liveId = await connectLiveServer(api, query, {
      ircd: system.ircd,
      nickname: 'pgfault',
      channel: '#pg',
      expectedUsers: 1,
    });
  });

  afterAll(async () => {
    await system?.dispose();
    await database?.stop();
    await folder?.remove();
  });

  async function expectWebUpButNotReady(): Promise<void> {
    expect(isAlive(system.web.process!.child.pid!)).toBe(true);
    expect((await fetch(`${system.web.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${system.web.url}/readyz`)).status).toBe(503);
  }

  async function expectNextCheckSucceeds(staleIds: number[]): Promise<void> {
    const report = await api.checkNow();

    expect(report).toMatchObject({ outcome: 'answered', error: null, connections: [liveId], disconnected: staleIds });
    expect(report.kept).toContain(liveId);
    expect(await connectionPicture(query, staleIds)).toEqual(STALE_AFTER);
    expect(await connectionPicture(query, [liveId])).toEqual(LIVE);
    expect((await api.health()).state).toBe('healthy');
    expect((await fetch(`${system.web.url}/readyz`)).status).toBe(200);
  }

  it('crashed while a check is inside its transaction: the check reports the failure, nothing is half-done', async () => {
    const staleIds = await seedConnectedServers(query, { servers: STALE, channelsPerServer: 2, usersPerChannel: 5 });
    // a lock on the transition's last table holds the check inside its transaction
    const blocker = await sessionOn(database.url);
    await blocker.query('begin');
    await blocker.query('lock table channel_users in share mode');
    const watcher = await sessionOn(database.url);
    const pendingCheck = fetch(`${system.web.url}/api/health-check`, { method: 'POST' });
    await eventually(async () => {
      const { rows } = await watcher.query(
        `select 1 from pg_stat_activity
         where pid <> pg_backend_pid() and wait_event_type = 'Lock' and query ilike '%delete from channel_users%'`,
      );
      return rows.length === 1;
    }, 30_000);

    await crashDatabase();

    const answer = await pendingCheck;
    expect(answer.status).toBe(200);
    const failed = await answer.json();
    expect(failed).toMatchObject({ outcome: 'answered', disconnected: [] });
    expect(failed.error).not.toBeNull();
    expect(await api.health()).toMatchObject({ state: 'degraded', lastReport: { error: failed.error } });
    await expectWebUpButNotReady();

    await startDatabase();

    // the transaction never committed: every stale server is as it was, the live one too
    expect(await connectionPicture(query, staleIds)).toEqual(STALE_BEFORE);
    expect(await connectionPicture(query, [liveId])).toEqual(LIVE);
    await expectNextCheckSucceeds(staleIds);
  });

  it('stopped between checks: the check while it is down fails and says so, the one after it is back succeeds', async () => {
    const staleIds = await seedConnectedServers(query, { servers: STALE, channelsPerServer: 2, usersPerChannel: 5 });

    await database.stop();
    const failed = await api.checkNow();

    expect(failed.error).not.toBeNull();
    expect(failed.disconnected).toEqual([]);
    expect((await api.health()).state).toBe('degraded');
    await expectWebUpButNotReady();

    await startDatabase();

    expect(await connectionPicture(query, staleIds)).toEqual(STALE_BEFORE);
    await expectNextCheckSucceeds(staleIds);
  });

  it('IRC events that arrive while it is down are applied once it is back, not lost', async () => {
    const ircEvents = await openSse(`${system.irc.url}/internal/irc/events`, {
      authorization: `Bearer ${system.token}`,
    });
    await database.stop();

    // the IRC service joins a channel now: its `joined` and `names` events cannot be written yet
    const join = await system.internalFetch(`${system.irc.url}/internal/irc/connections/${liveId}/channels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '#während' }),
    });
    expect(join.status).toBe(202);
    await ircEvents.waitFor(
      (event) => event.type === 'names' && (event.data as { channel: string }).channel === '#während',
      10_000,
    );
    ircEvents.close();
    await expectWebUpButNotReady();

    await startDatabase();

    // the event consumer resumes from the last event it applied; a health check could not tell this
    await eventually(async () => {
      const rows = await query<{ joined: boolean; users: number }>(
        `select c.joined, (select count(*)::int from channel_users u where u.channel_id = c.id) as users
         from channels c where c.server_id = $1 and c.name = $2`,
        [liveId, '#während'],
      );
      return rows[0]?.joined === true && rows[0].users === 1;
    }, 30_000);
    expect(await connectionPicture(query, [liveId])).toEqual({
      connectedServers: 1,
      joinedChannels: 2,
      channelUsers: 2,
    });
  });
});
