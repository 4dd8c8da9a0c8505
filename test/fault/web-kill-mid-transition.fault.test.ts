import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionPicture, connectionPicture, seedConnectedServers } from '../support/connection-picture.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { type System, startSystem } from '../support/system.ts';
import { webApi } from '../support/web-api.ts';

const SERVERS = 5_000;
const CHANNELS_PER_SERVER = 2;
const USERS_PER_CHANNEL = 5;
const BEFORE: ConnectionPicture = {
  connectedServers: SERVERS,
  joinedChannels: SERVERS * CHANNELS_PER_SERVER,
  channelUsers: SERVERS * CHANNELS_PER_SERVER * USERS_PER_CHANNEL,
};
const AFTER: ConnectionPicture = { connectedServers: 0, joinedChannels: 0, channelUsers: 0 };

/**
 * A backend of the web process running the disconnect transition: the one data-modifying CTE statement
 * of `src/web/servers/disconnect-transition.ts` (servers, then channels, then channel users), while it runs
 * (a node's check names its live ids in a CTE before `changed`).
 */
const TRANSITION_BACKENDS = `
  select pid, state, wait_event_type, query from pg_stat_activity
  where datname = current_database() and pid <> pg_backend_pid() and state = 'active'
    and query ilike 'with %changed as (update servers set connected_at = null%'`;

interface Backend {
  pid: number;
  state: string;
  wait_event_type: string | null;
  query: string;
}

/**
 * The web process is SIGKILLed while the disconnect transition of 5,000 servers (10,000 channels, 50,000
 * channel users) runs: the transaction never commits, so the rows stay all as before; a web process
 * started again finishes the job, so they end all as after. Never a mix.
 */
describe.skipIf(lacks('ngircd'))(
  'fault: the web process killed in the middle of a disconnect transition',
  {
    timeout: 120_000,
  },
  () => {
    let system: System;
    let watcher: pg.Client;

    beforeAll(async () => {
      // the IRC service runs with no connections: every check answers `{"connections":[]}`
      system = await startSystem({ env: { HEALTH_CHECK_INTERVAL_MS: '3600000' } });
      await webApi(system.web.url).settled();
      watcher = new pg.Client({ connectionString: system.db.url });
      await watcher.connect();
    });

    afterAll(async () => {
      await watcher?.end();
      await system?.dispose();
    });

    async function seed(): Promise<number[]> {
      const ids = await seedConnectedServers(system.db.query, {
        servers: SERVERS,
        channelsPerServer: CHANNELS_PER_SERVER,
        usersPerChannel: USERS_PER_CHANNEL,
      });
      expect(await connectionPicture(system.db.query, ids)).toEqual(BEFORE);
      return ids;
    }

    async function backendGone(pid: number): Promise<void> {
      await eventually(
        async () => (await watcher.query('select 1 from pg_stat_activity where pid = $1', [pid])).rowCount === 0,
        30_000,
      );
    }

    /** Starts the web process again; its boot check sees the IRC service without these connections. */
    async function restartWeb(ids: number[]): Promise<void> {
      await system.web.start();
      await webApi(system.web.url).settled(60_000);
      expect(await connectionPicture(system.db.query, ids)).toEqual(AFTER);
      // the operator's channels are all still there, only what was observed is cleared
      const [channels] = await system.db.query<{ count: number }>(
        'select count(*)::int as count from channels where server_id = any($1::int[])',
        [ids],
      );
      expect(channels?.count).toBe(SERVERS * CHANNELS_PER_SERVER);
    }

    it('killed while its transaction waits inside the transition: all before, then all after a restart', async () => {
      const ids = await seed();
      // A row lock on one channel user of the last server holds the transition statement mid-way: it has
      // already cleared connected_at (the channel users to delete are found from those ids) when it waits
      // to delete that row, and the process dies then.
      const blocker = new pg.Client({ connectionString: system.db.url });
      await blocker.connect();
      await blocker.query('begin');
      await blocker.query(
        `select 1 from channel_users where channel_id =
           (select max(c.id) from channels c where c.server_id = $1) limit 1 for update`,
        [ids.at(-1)],
      );
      const pendingCheck = fetch(`${system.web.url}/api/health-check`, { method: 'POST' }).catch(
        (error: Error) => error,
      );

      let blocked: Backend | undefined;
      await eventually(async () => {
        blocked = (await watcher.query<Backend>(TRANSITION_BACKENDS)).rows.find(
          (row) => row.wait_event_type === 'Lock',
        );
        return blocked !== undefined;
      }, 30_000);
      expect(blocked?.query).toMatch(/delete from channel_users/i);
      // other sessions see nothing of the half-done transaction
      expect(await connectionPicture(system.db.query, ids)).toEqual(BEFORE);

      await system.web.signal('SIGKILL');
      await blocker.query('commit');
      await blocker.end();
      await backendGone(blocked!.pid);

      expect(await pendingCheck).toBeInstanceOf(Error);
      expect(await connectionPicture(system.db.query, ids)).toEqual(BEFORE);

      await restartWeb(ids);
    });

    it('killed at whatever point its running transition has reached: all before or all after, never a mix', async () => {
      const ids = await seed();
      const pendingCheck = fetch(`${system.web.url}/api/health-check`, { method: 'POST' }).catch(
        (error: Error) => error,
      );

      // the first sight of the transaction's statements, polled as fast as one connection can
      let seen: Backend | undefined;
      const deadline = Date.now() + 30_000;
      while (!seen && Date.now() < deadline) {
        seen = (await watcher.query<Backend>(TRANSITION_BACKENDS)).rows[0];
      }
      expect(seen).toBeDefined();
      await system.web.signal('SIGKILL');
      await backendGone(seen!.pid);
      await pendingCheck;

      const picture = await connectionPicture(system.db.query, ids);
      expect([BEFORE, AFTER]).toContainEqual(picture);

      await restartWeb(ids);
    });
  },
);
