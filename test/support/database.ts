/** A fresh migrated database per test, copied from the run's template. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDatabase } from '../../src/db/database-url.ts';
import { type MikroORM, openOrm } from '../../src/db/orm.ts';

export interface TestDatabase {
  url: string;
  name: string;
  /** Runs SQL on a short-lived connection of its own (assertions that bypass the ORM). */
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<Row[]>;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('testAdminUrl') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database of this test's own, copied from the run's template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${inject('testDatabasePrefix')}_${randomBytes(4).toString('hex')}`;
  const template = inject('testTemplateDatabase');
  await adminQuery(`create database ${pg.escapeIdentifier(name)} template ${pg.escapeIdentifier(template)}`);
  const url = withDatabase(inject('testAdminUrl'), name);
  return {
    url,
    name,
    async query(sql, values = []) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql, values)).rows;
      } finally {
        await client.end();
      }
    },
    drop: () => adminQuery(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`),
  };
}

/** A test database with an ORM on it; `close()` closes the ORM and drops the database. */
export async function createTestOrm(): Promise<{ db: TestDatabase; orm: MikroORM; close(): Promise<void> }> {
  const db = await createTestDatabase();
  const orm = await openOrm(db.url);
  return {
    db,
    orm,
    async close() {
      await orm.close();
      await db.drop();
    },
  };
}
