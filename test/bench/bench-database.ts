/** A migrated database of a benchmark's own, seeded with connected servers, channels and users. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withDatabase } from '../../src/db/database-url.ts';
import { type MikroORM, migrate, openOrm } from '../../src/db/orm.ts';
import { type Query, seedConnectedServers as seedServers } from '../support/connection-picture.ts';

export interface BenchDatabase {
  url: string;
  orm: MikroORM;
  /** A plain node-postgres pool: the floor's way to the same database. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

async function admin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A migrated database of the benchmark's own, dropped afterwards. */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `irc_supervisor_bench_${randomBytes(4).toString('hex')}`;
  await admin(adminUrl, `create database ${pg.escapeIdentifier(name)}`);
  const url = withDatabase(adminUrl, name);
  const orm = await openOrm(url);
  await migrate(orm);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return {
    url,
    orm,
    pool,
    async drop() {
      await pool.end();
      await orm.close();
      await admin(adminUrl, `drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
    },
  };
}

/**
 * Servers marked connected an hour ago, each with joined channels full of users: the tests' seeder on
 * the bench pool (ids 1..n in this fresh database), then fresh planner statistics so that the first
 * timed run does not plan against an empty table.
 */
export async function seedConnectedServers(
  pool: pg.Pool,
  sizes: { servers: number; channelsPerServer: number; usersPerChannel: number },
): Promise<number[]> {
  const query: Query = async (sql, values) => (await pool.query(sql, values)).rows;
  const ids = await seedServers(query, sizes);
  await pool.query('vacuum analyze');
  return ids;
}

/** Puts the given servers back as seeded (connected, channels joined, users present). */
export async function restoreServers(pool: pg.Pool, ids: number[], usersPerChannel: number): Promise<void> {
  await pool.query(`update servers set connected_at = now() - interval '1 hour' where id = any($1::int[])`, [ids]);
  await pool.query('update channels set joined = true where server_id = any($1::int[])', [ids]);
  await pool.query(
    `insert into channel_users (channel_id, nickname)
     select c.id, 'user' || g from channels c, generate_series(1, $2) g
     where c.server_id = any($1::int[]) on conflict do nothing`,
    [ids, usersPerChannel],
  );
}
