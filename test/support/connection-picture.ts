/** Reads and seeds what the database says about servers, channels and users, for assertions. */
import type pg from 'pg';

/** Runs SQL somewhere (a TestDatabase, or a pg client on a database of the test's own). */
export type Query = <Row extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  values?: unknown[],
) => Promise<Row[]>;

/**
 * What the whole database says about connections, in the terms fault tests assert: how many servers are
 * marked connected, how many channels joined, how many channel users listed. A disconnect transition that
 * is all-or-nothing leaves these at "all before" or "all after", never in between.
 */
export interface ConnectionPicture {
  connectedServers: number;
  joinedChannels: number;
  channelUsers: number;
}

export async function connectionPicture(query: Query, serverIds?: readonly number[]): Promise<ConnectionPicture> {
  // null: every server
  const [row] = await query<ConnectionPicture>(
    `with picked as (select id, connected_at from servers where $1::int[] is null or id = any($1::int[]))
     select
       (select count(*)::int from picked where connected_at is not null) as "connectedServers",
       (select count(*)::int from channels c join picked on picked.id = c.server_id where c.joined) as "joinedChannels",
       (select count(*)::int from channel_users u join channels c on c.id = u.channel_id
          join picked on picked.id = c.server_id) as "channelUsers"`,
    [serverIds ? [...serverIds] : null],
  );
  if (!row) throw new Error('no picture');
  return row;
}

export interface SeedOptions {
  servers: number;
  channelsPerServer?: number;
  usersPerChannel?: number;
  /** SQL expression for connected_at; an hour ago by default (older than any check that follows). */
  connectedAt?: string;
}

/**
 * Inserts many connected servers with joined channels and their users in three set-based statements
 * (5,000 servers with 50,000 users take well under a second). Answers the new servers' ids, ascending.
 */
export async function seedConnectedServers(query: Query, options: SeedOptions): Promise<number[]> {
  const { servers, channelsPerServer = 2, usersPerChannel = 5 } = options;
  const connectedAt = options.connectedAt ?? "now() - interval '1 hour'";
  const rows = await query<{ id: number }>(
    `insert into servers (name, host, port, nickname, connected_at)
     select 'seeded ' || n, 'irc.invalid', 6667, 'seed' || n, ${connectedAt} from generate_series(1, $1::int) n
     returning id`,
    [servers],
  );
  const ids = rows.map((row) => row.id).sort((a, b) => a - b);
  await query(
    `insert into channels (server_id, name, joined)
     select s, '#c' || n, true from unnest($1::int[]) s, generate_series(1, $2::int) n`,
    [ids, channelsPerServer],
  );
  await query(
    `insert into channel_users (channel_id, nickname)
     select c.id, 'user' || n from channels c, generate_series(1, $2::int) n where c.server_id = any($1::int[])`,
    [ids, usersPerChannel],
  );
  return ids;
}
