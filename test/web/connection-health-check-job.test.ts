import { execFileSync } from 'node:child_process';
import { delay, HttpResponse, http } from 'msw';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { ConnectionHealthCheckJob } from '../../src/web/health/connection-health-check-job.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { IRC_SERVICE_URL, insertServer, recordingPublisher, STATUS_URL, serverPicture, TOKEN } from './fixtures.ts';

describe('ConnectionHealthCheckJob', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let closeDatabase: () => Promise<void>;

  beforeEach(async () => {
    ({ db, orm, close: closeDatabase } = await createTestOrm());
  });
  afterEach(() => closeDatabase());

  function createJob(timeoutMs = 2_000) {
    const events = recordingPublisher();
    const client = new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs });
    const job = new ConnectionHealthCheckJob({ orm, client, events });
    return { job, events };
  }

  function answerStatus(connections: number[]) {
    mswServer.use(http.get(STATUS_URL, () => HttpResponse.json({ connections })));
  }

  it('passes the failed connections of the status on to the reconciler, which leaves them alone', async () => {
    const banned = await insertServer(db, { connectedAt: null });
    mswServer.use(http.get(STATUS_URL, () => HttpResponse.json({ connections: [], failed: [banned] })));
    const plans: Array<{ live: readonly number[]; failed: readonly number[] }> = [];
    const client = new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 2_000 });
    const wanted = {
      reconcile: async (live: readonly number[], failed: readonly number[] = []) => {
        plans.push({ live, failed });
        return { restoring: [], closing: [], joining: [], parting: [] };
      },
    };
    const job = new ConnectionHealthCheckJob({ orm, client, events: recordingPublisher(), wanted });

    const report = await job.perform();

    expect(plans).toEqual([{ live: [], failed: [banned] }]);
    expect(report).toMatchObject({ outcome: 'answered', connections: [], restoring: [] });
  });

  describe('the seed cases', () => {
    it('marks a stale connection disconnected: connected_at null, its channels not joined, its users gone', async () => {
      const serverId = await insertServer(db, {
        channels: [
          { name: '#a', users: ['alice', 'bob'] },
          { name: '#b', users: ['carol'] },
        ],
      });
      answerStatus([]);
      const { job } = createJob();

      const report = await job.perform();

      expect(await serverPicture(db, serverId)).toMatchObject({
        connected: false,
        joinedChannels: 0,
        channelUsers: 0,
      });
      expect(report).toMatchObject({ outcome: 'answered', disconnected: [serverId], kept: [], error: null });
    });

    it('keeps valid connections connected, connected_at unchanged', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      const before = await serverPicture(db, serverId);
      answerStatus([serverId]);
      const { job, events } = createJob();

      const report = await job.perform();

      expect(await serverPicture(db, serverId)).toEqual(before);
      expect(report).toMatchObject({ kept: [serverId], disconnected: [], markedConnected: [] });
      expect(events.events).toEqual([]);
    });

    it('marks both of two connected servers disconnected when the IRC service is unreachable', async () => {
      const first = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      const second = await insertServer(db, { connectedAt: 'now()', channels: [{ name: '#b', users: ['bob'] }] });
      mswServer.use(http.get(STATUS_URL, () => HttpResponse.error()));
      const { job } = createJob();

      const report = await job.perform();

      for (const serverId of [first, second]) {
        expect(await serverPicture(db, serverId)).toMatchObject({
          connected: false,
          joinedChannels: 0,
          channelUsers: 0,
        });
      }
      expect(report).toMatchObject({
        outcome: 'unavailable',
        disconnected: [first, second],
        error: { name: 'ServiceUnavailable' },
      });
    });

    it('changes nothing when no server is connected', async () => {
      const serverId = await insertServer(db, { connectedAt: null, channels: [{ name: '#a', joined: false }] });
      const before = await db.query('select * from servers order by id');
      answerStatus([]);
      const { job, events } = createJob();

      const report = await job.perform();

      expect(await db.query('select * from servers order by id')).toEqual(before);
      expect(await serverPicture(db, serverId)).toMatchObject({ connected: false });
      expect(report).toMatchObject({ outcome: 'answered', kept: [], disconnected: [], markedConnected: [] });
      expect(events.events).toEqual([]);
    });
  });

  describe('beyond the seed', () => {
    it('keeps a server that connected while the status request was in flight', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      mswServer.use(
        http.get(STATUS_URL, async () => {
          // the service computed its answer before this server registered
          await db.query('update servers set connected_at = now() where id = $1', [serverId]);
          return HttpResponse.json({ connections: [] });
        }),
      );
      const { job } = createJob();

      const report = await job.perform();

      expect(await serverPicture(db, serverId)).toMatchObject({ connected: true });
      expect(report).toMatchObject({ disconnected: [], kept: [serverId] });
    });

    it('does not mark connected a server whose disconnect was applied while the status request was in flight', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      mswServer.use(
        http.get(STATUS_URL, async () => {
          // the service computed its answer before this server dropped; its `disconnected` event is applied first
          await db.query('update servers set connected_at = null, updated_at = now() where id = $1', [serverId]);
          return HttpResponse.json({ connections: [serverId] });
        }),
      );
      const { job, events } = createJob();

      const report = await job.perform();

      expect(await serverPicture(db, serverId)).toMatchObject({ connected: false });
      expect(report).toMatchObject({ markedConnected: [], disconnected: [] });
      expect(events.events).toEqual([]);
      // the next check's answer is newer than the disconnect: a server listed again is marked connected
      answerStatus([serverId]);
      expect(await job.perform()).toMatchObject({ markedConnected: [serverId] });
    });

    it('leaves rows alone when the status request times out', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      const before = await serverPicture(db, serverId);
      mswServer.use(
        http.get(STATUS_URL, async () => {
          await delay(1_000);
          return HttpResponse.json({ connections: [] });
        }),
      );
      const { job, events } = createJob(30);

      const report = await job.perform();

      expect(await serverPicture(db, serverId)).toEqual(before);
      expect(report).toMatchObject({ outcome: 'unknown', error: { name: 'ServiceTimeout' }, disconnected: [] });
      expect(events.events).toEqual([]);
    });

    it.each([
      ['a 500', () => HttpResponse.json({ error: 'boom' }, { status: 500 }), 'unknown', 'BadServiceAnswer'],
      ['a malformed body', () => HttpResponse.json({ connections: 'all' }), 'unknown', 'BadServiceAnswer'],
      ['a body that is not JSON', () => HttpResponse.text('hello'), 'unknown', 'BadServiceAnswer'],
      ['a 401', () => HttpResponse.json({ error: 'no' }, { status: 401 }), 'unauthorized', 'Unauthorized'],
    ])('changes nothing on %s', async (_label, answer, outcome, errorName) => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      const before = await serverPicture(db, serverId);
      mswServer.use(http.get(STATUS_URL, answer));
      const { job, events } = createJob();

      const report = await job.perform();

      expect(await serverPicture(db, serverId)).toEqual(before);
      expect(report).toMatchObject({ outcome, error: { name: errorName }, disconnected: [], kept: [serverId] });
      expect(events.events).toEqual([]);
    });

    it('disconnects every connected server when told to treat an unknown result as unavailable', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      mswServer.use(http.get(STATUS_URL, () => new HttpResponse(null, { status: 503 })));
      const { job } = createJob();

      const report = await job.perform({ treatUnknownAsUnavailable: true });

      expect(await serverPicture(db, serverId)).toMatchObject({ connected: false, channelUsers: 0 });
      expect(report).toMatchObject({ outcome: 'unknown', treatedAsUnavailable: true, disconnected: [serverId] });
    });

    it('marks a live server that the database shows disconnected as connected (reverse drift)', async () => {
      const serverId = await insertServer(db, { connectedAt: null });
      answerStatus([serverId]);
      const { job, events } = createJob();

      const report = await job.perform();

      const picture = await serverPicture(db, serverId);
      expect(picture.connected).toBe(true);
      expect(report.markedConnected).toEqual([serverId]);
      expect(events.events).toEqual([
        {
          type: 'server-status',
          payload: { serverId, connected: true, connectedAt: new Date(picture.connectedAt!).toISOString() },
        },
      ]);
    });

    it('broadcasts one server-status per changed server, after the commit', async () => {
      const stale = await insertServer(db);
      const valid = await insertServer(db);
      const { job, events } = createJob();
      const connectedAtWhenBroadcast: (string | null)[] = [];
      const publish = events.publish.bind(events);
      events.publish = (type, payload) => {
        // read synchronously on another connection: only a committed change is visible there, and the
        // job cannot send its COMMIT while this blocks, so the read sees exactly the state at publish time
        connectedAtWhenBroadcast.push(readConnectedAtBlocking(db.url, stale));
        publish(type, payload);
      };
      answerStatus([valid]);

      await job.perform();

      expect(connectedAtWhenBroadcast).toEqual([null]);
      expect(events.events).toEqual([
        { type: 'server-status', payload: { serverId: stale, connected: false, connectedAt: null } },
      ]);
    });

    it('broadcasts nothing and changes nothing when the transaction rolls back', async () => {
      const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
      const before = await serverPicture(db, serverId);
      // the channel reset fails after the servers row was updated in the same transaction
      await db.query(`create function refuse() returns trigger language plpgsql as
        $$ begin raise exception 'channels are read-only'; end $$`);
      await db.query(
        'create trigger refuse_channels before update on channels for each statement execute function refuse()',
      );
      answerStatus([]);
      const { job, events } = createJob();

      const report = await job.perform();

      expect(await serverPicture(db, serverId)).toEqual(before);
      expect(events.events).toEqual([]);
      expect(report.disconnected).toEqual([]);
      expect(report.error?.message).toMatch(/channels are read-only/);
    });

    it('issues the same few SQL statements for 1 stale server as for 2,000', async () => {
      const countStatements = async (stale: number) => {
        await db.query(
          `with s as (
             insert into servers (name, host, port, nickname, connected_at)
             select 'net' || n, 'irc.example', 6697, 'me', now() - interval '1 hour' from generate_series(1, $1) n
             returning id)
           , c as (insert into channels (server_id, name, joined) select id, '#a', true from s returning id)
           insert into channel_users (channel_id, nickname) select id, 'alice' from c`,
          [stale],
        );
        answerStatus([]);
        const { job } = createJob();
        const query = vi.spyOn(pg.Client.prototype, 'query');
        const report = await job.perform();
        const statements = query.mock.calls.length;
        query.mockRestore();
        expect(report.disconnected).toHaveLength(stale);
        return statements;
      };

      const forOne = await countStatements(1);
      const forTwoThousand = await countStatements(2_000);

      expect(forTwoThousand).toBe(forOne);
      expect(forOne).toBeLessThanOrEqual(8);
      expect(await db.query('select count(*)::int as n from channel_users')).toEqual([{ n: 0 }]);
    });
  });
});

/** `servers.connected_at` of one server, read on a connection of its own while this process waits. */
function readConnectedAtBlocking(url: string, serverId: number): string | null {
  const script = `
    const pg = require('pg');
    const client = new pg.Client({ connectionString: process.argv[1] });
    client.connect()
      .then(() => client.query('select to_json(connected_at) #>> $$' + '{}' + '$$ as c from servers where id = $1', [process.argv[2]]))
      .then((result) => { process.stdout.write(JSON.stringify(result.rows[0].c)); return client.end(); })
      .catch((error) => { console.error(error); process.exit(1); });`;
  const output = execFileSync(process.execPath, ['-e', script, url, String(serverId)], { encoding: 'utf8' });
  return JSON.parse(output) as string | null;
}
