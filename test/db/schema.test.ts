import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openOrm } from '../../src/db/orm.ts';
import { createTestDatabase, createTestOrm, type TestDatabase } from '../support/database.ts';

describe('database schema', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('has exactly the contract tables', async () => {
    const rows = await db.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(rows.map((row) => row.table_name)).toEqual([
      'channel_users',
      'channels',
      'irc_nodes',
      'mikro_orm_migrations',
      'servers',
    ]);
  });

  it('has the contract columns with their nullability and defaults', async () => {
    const rows = await db.query<{
      table_name: string;
      column_name: string;
      is_nullable: string;
      column_default: string | null;
    }>(
      `select table_name, column_name, is_nullable, column_default from information_schema.columns
       where table_schema = 'public' and table_name in ('servers', 'channels', 'channel_users', 'irc_nodes')`,
    );
    const column = (table: string, name: string) =>
      rows.find((row) => row.table_name === table && row.column_name === name);
    expect(column('servers', 'connected_at')).toMatchObject({ is_nullable: 'YES', column_default: null });
    expect(column('servers', 'tls')).toMatchObject({ is_nullable: 'NO', column_default: 'false' });
    expect(column('servers', 'autoconnect')).toMatchObject({ is_nullable: 'NO', column_default: 'false' });
    expect(column('channels', 'joined')).toMatchObject({ is_nullable: 'NO', column_default: 'false' });
    expect(column('channels', 'wanted')).toMatchObject({ is_nullable: 'NO', column_default: 'true' });
    expect(column('servers', 'pending_since')).toMatchObject({ is_nullable: 'YES', column_default: null });
    expect(column('servers', 'pending_reason')).toMatchObject({ is_nullable: 'YES', column_default: null });
    expect(column('servers', 'failure_reason')).toMatchObject({ is_nullable: 'YES', column_default: null });
    expect(column('servers', 'failed_at')).toMatchObject({ is_nullable: 'YES', column_default: null });
    expect(column('servers', 'irc_node')).toMatchObject({ is_nullable: 'YES', column_default: null });
    expect(column('servers', 'moving_to')).toMatchObject({ is_nullable: 'YES', column_default: null });
    expect(column('servers', 'moving_since')).toMatchObject({ is_nullable: 'YES', column_default: null });
    expect(column('channel_users', 'modes')).toMatchObject({ is_nullable: 'NO', column_default: "''::text" });
    expect(column('irc_nodes', 'name')).toMatchObject({ is_nullable: 'NO', column_default: null });
    expect(column('irc_nodes', 'draining_since')).toMatchObject({ is_nullable: 'YES', column_default: null });
    expect(column('irc_nodes', 'drain_problem')).toMatchObject({ is_nullable: 'YES', column_default: null });
    for (const name of ['id', 'name', 'host', 'port', 'nickname', 'created_at', 'updated_at']) {
      expect(column('servers', name), name).toBeDefined();
    }
  });

  it('inserts rows with only the required columns', async () => {
    const [server] = await db.query<{
      id: number;
      tls: boolean;
      autoconnect: boolean;
      connected_at: Date | null;
      created_at: Date;
    }>(`insert into servers (name, host, port, nickname) values ('libera', 'irc.example', 6697, 'me') returning *`);
    expect(server).toMatchObject({ tls: false, autoconnect: false, connected_at: null });
    expect(server?.created_at).toBeInstanceOf(Date);
    const [channel] = await db.query(`insert into channels (server_id, name) values ($1, '#a') returning joined`, [
      server?.id,
    ]);
    expect(channel).toEqual({ joined: false });
  });

  it('enforces unique channel names per server and unique nicknames per channel', async () => {
    const [server] = await db.query<{ id: number }>(
      `insert into servers (name, host, port, nickname) values ('u', 'h', 1, 'n') returning id`,
    );
    const [channel] = await db.query<{ id: number }>(
      `insert into channels (server_id, name) values ($1, '#u') returning id`,
      [server?.id],
    );
    await expect(db.query(`insert into channels (server_id, name) values ($1, '#u')`, [server?.id])).rejects.toThrow(
      /channels_server_id_name_unique/,
    );
    await db.query(`insert into channel_users (channel_id, nickname) values ($1, 'alice')`, [channel?.id]);
    await expect(
      db.query(`insert into channel_users (channel_id, nickname) values ($1, 'alice')`, [channel?.id]),
    ).rejects.toThrow(/channel_users_channel_id_nickname_unique/);
  });

  it('deleting a server removes its channels and their users', async () => {
    const [server] = await db.query<{ id: number }>(
      `insert into servers (name, host, port, nickname) values ('c', 'h', 1, 'n') returning id`,
    );
    const [channel] = await db.query<{ id: number }>(
      `insert into channels (server_id, name) values ($1, '#c') returning id`,
      [server?.id],
    );
    await db.query(`insert into channel_users (channel_id, nickname) values ($1, 'bob'), ($1, 'carol')`, [channel?.id]);

    await db.query('delete from servers where id = $1', [server?.id]);

    expect(await db.query('select id from channels where server_id = $1', [server?.id])).toEqual([]);
    expect(await db.query('select id from channel_users where channel_id = $1', [channel?.id])).toEqual([]);
  });
});

describe('migrations', () => {
  it('a second run applies nothing, and the entities match the migrated schema', async () => {
    const { orm, close } = await createTestOrm();
    try {
      expect(await migrate(orm)).toEqual([]);
      expect(await orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe('');
    } finally {
      await close();
    }
  });

  it('creates the schema on an empty database', async () => {
    const db = await createTestDatabase();
    try {
      await db.query('drop table channel_users, channels, servers, irc_nodes, mikro_orm_migrations');
      const orm = await openOrm(db.url);
      expect(await migrate(orm)).toEqual([
        '20261129000000-initial-schema',
        '20261202000000-intent-first',
        '20261203000000-connection-failure',
        '20261203010000-irc-node',
        '20261203020000-tls-sasl',
        '20261203030000-node-drain',
      ]);
      await orm.close();
      expect(await db.query('select count(*)::int as n from servers')).toEqual([{ n: 0 }]);
    } finally {
      await db.drop();
    }
  });
});
