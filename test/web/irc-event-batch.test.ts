import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IrcEvent } from '../../src/shared/irc-events.ts';
import { applyIrcEvent, applyIrcEvents, type PendingWebEvent } from '../../src/web/irc-events/irc-event-applier.ts';
import { ConnectionStates } from '../../src/web/servers/connection-states.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';

const connected = (serverId: number): IrcEvent => ({ type: 'connected', payload: { serverId, nickname: 'me' } });
const state = (serverId: number, value: string): IrcEvent => ({
  type: 'connection-state',
  payload: {
    serverId,
    state: value,
    since: '2026-12-03T07:00:00.000Z',
    nickname: value === 'socket.registered' ? 'me' : null,
    attempt: 0,
    nextAttemptAt: null,
    lastError: null,
  },
});

describe('applyIrcEvents: a burst applied as a batch (real PostgreSQL)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function database() {
    const { db, orm, close } = await createTestOrm();
    cleanups.push(close);
    return { db, orm };
  }

  /** `count` servers placed on node `a`, none connected (the failover's new node is connecting them). */
  async function placedOnA(db: TestDatabase, count: number): Promise<number[]> {
    const rows = await db.query<{ id: number }>(
      `insert into servers (name, host, port, nickname, irc_node)
       select 'net' || n, 'irc.example', 6697, 'me', 'a' from generate_series(1, $1::int) n returning id`,
      [count],
    );
    return rows.map((row) => row.id);
  }

  it("costs one statement for a failover's burst of 1 server as of 200", async () => {
    const { db, orm } = await database();
    const statementsFor = async (count: number) => {
      const ids = await placedOnA(db, count);
      const connections = new ConnectionStates();
      const burst = ids.flatMap((id) => [
        state(id, 'socket.connecting'),
        connected(id),
        state(id, 'socket.registered'),
      ]);
      const query = vi.spyOn(pg.Client.prototype, 'query');
      const changes = await applyIrcEvents(orm.em.fork(), burst, connections, 'a');
      const statements = query.mock.calls.length;
      query.mockRestore();
      expect(changes.filter((change) => change.type === 'server-status')).toHaveLength(count);
      expect(changes.filter((change) => change.type === 'connection-state')).toHaveLength(2 * count);
      const [row] = await db.query<{ n: number }>(
        'select count(*)::int as n from servers where id = any($1) and connected_at is not null',
        [ids],
      );
      expect(row!.n).toBe(count);
      expect(connections.get(ids.at(-1)!)).toMatchObject({ state: 'socket.registered' });
      return statements;
    };

    const forOne = await statementsFor(1);
    const forTwoHundred = await statementsFor(200);

    expect(forTwoHundred).toBe(forOne);
    expect(forOne).toBe(1);
  });

  it('changes the rows and tells the browsers what applying the events one at a time does, replays included', async () => {
    // servers 1, 2 on node a (2 failed), 3 moved to b, 4 connected on a with a channel, 5 placed nowhere
    const scenario = async () => {
      const { db, orm } = await database();
      await db.query(
        `insert into servers (name, host, port, nickname, irc_node, connected_at, failure_reason, failed_at) values
           ('one', 'irc.example', 6697, 'me', 'a', null, null, null),
           ('two', 'irc.example', 6697, 'me', 'a', null, 'K-lined', '2026-12-03T06:00:00Z'),
           ('three', 'irc.example', 6697, 'me', 'b', null, null, null),
           ('four', 'irc.example', 6697, 'me', 'a', now(), null, null),
           ('five', 'irc.example', 6697, 'me', null, null, null, null)`,
      );
      await db.query(`insert into channels (server_id, name, joined) values (4, '#a', true)`);
      await db.query(`insert into channel_users (channel_id, nickname) select id, 'alice' from channels`);
      const picture = async () => ({
        servers: await db.query(
          `select id, connected_at is not null as connected, failure_reason, failed_at, irc_node
           from servers order by id`,
        ),
        channels: await db.query('select server_id, name, joined from channels order by server_id, name'),
        users: await db.query(
          `select c.server_id, c.name, u.nickname, u.modes from channel_users u join channels c on c.id = u.channel_id
           order by 1, 2, 3`,
        ),
      });
      return { orm, picture, connections: new ConnectionStates() };
    };
    const batch: IrcEvent[] = [
      state(1, 'socket.connecting'),
      connected(1),
      state(2, 'socket.connecting'),
      connected(2),
      state(3, 'socket.registered'),
      connected(3),
      { type: 'disconnected', payload: { serverId: 4 } },
      state(4, 'reconnecting'),
      { type: 'joined', payload: { serverId: 1, channel: '#x' } },
      { type: 'names', payload: { serverId: 1, channel: '#x', users: [{ nickname: 'me', modes: '@' }] } },
      connected(4),
      connected(1),
      state(1, 'socket.registered'),
      state(4, 'socket.registered'),
      connected(5),
      state(5, 'socket.registered'),
      state(1, 'socket.registered'),
    ];
    // connectedAt is the database's now(): only whether it is set can match across two databases
    const told = (changes: PendingWebEvent[]) =>
      changes.map((change) =>
        'connectedAt' in change.payload ? { ...change, payload: { ...change.payload, connectedAt: 'set' } } : change,
      );

    const together = await scenario();
    // the batch, then the batch again (the stream replayed after a drop)
    const toldTogether: PendingWebEvent[] = [];
    for (const events of [batch, batch]) {
      toldTogether.push(...(await applyIrcEvents(together.orm.em.fork(), events, together.connections, 'a')));
    }
    const oneByOne = await scenario();
    const toldOneByOne: PendingWebEvent[] = [];
    for (const event of [...batch, ...batch]) {
      toldOneByOne.push(...(await applyIrcEvent(oneByOne.orm.em.fork(), event, oneByOne.connections, 'a')));
    }

    expect(told(toldTogether)).toEqual(told(toldOneByOne));
    expect(await together.picture()).toEqual(await oneByOne.picture());
    for (const serverId of [1, 2, 3, 4, 5]) {
      expect(together.connections.get(serverId)).toEqual(oneByOne.connections.get(serverId));
    }
    // the picture a user sees: 1, 2 (its failure over), 4 and 5 connected; 3 is b's to tell of
    expect((await together.picture()).servers.map((row) => row.connected)).toEqual([true, true, false, true, true]);
    expect(together.connections.get(3)).toBeNull();
  });

  it('changes nothing, in the database or in memory, when the UPDATE of a run fails: its retry tells all', async () => {
    const { db, orm } = await database();
    const ids = await placedOnA(db, 2);
    const connections = new ConnectionStates();
    const run = ids.flatMap((id) => [state(id, 'socket.registered'), connected(id)]);
    await db.query(`create function refuse() returns trigger language plpgsql as
      $$ begin raise exception 'servers are read-only'; end $$`);
    await db.query(
      'create trigger refuse_servers before update on servers for each statement execute function refuse()',
    );

    await expect(applyIrcEvents(orm.em.fork(), run, connections, 'a')).rejects.toThrow(/servers are read-only/);

    expect(ids.map((id) => connections.get(id))).toEqual([null, null]);
    await db.query('drop trigger refuse_servers on servers');
    const retried = await applyIrcEvents(orm.em.fork(), run, connections, 'a');
    expect(retried.map((change) => `${change.type} ${(change.payload as { serverId: number }).serverId}`)).toEqual(
      ids.flatMap((id) => [`connection-state ${id}`, `server-status ${id}`]),
    );
  });
});
