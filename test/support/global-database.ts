/** Vitest global setup: the test PostgreSQL and its migrated template database. */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { withDatabase } from '../../src/db/database-url.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { migrate, openOrm } from '../../src/db/orm.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a maintenance database on the test server, for CREATE/DROP DATABASE. */
    testAdminUrl: string;
    /** A migrated database that each test file copies. */
    testTemplateDatabase: string;
    /** Prefix of every database this run creates, so teardown can find leftovers. */
    testDatabasePrefix: string;
  }
}

/**
 * With DATABASE_URL: databases of this run's own on that server. Without: an embedded PostgreSQL in a
 * temporary folder. Either way a migrated template is made once and each test file copies it.
 */
export default async function setup(project: TestProject) {
  const prefix = `irc_supervisor_test_${process.pid}_${Date.now().toString(36)}`;
  let adminUrl: string;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let tempDir: string | undefined;

  if (process.env.DATABASE_URL) {
    adminUrl = withDatabase(process.env.DATABASE_URL, 'postgres');
  } else {
    tempDir = await mkdtemp(join(tmpdir(), 'irc-supervisor-test-'));
    // as root, PostgreSQL runs as the postgres user, which must enter this folder
    await chmod(tempDir, 0o755);
    const embedded = await startEmbeddedPostgres({ dataDir: tempDir, database: 'postgres', ephemeral: true });
    adminUrl = embedded.adminUrl;
    stopEmbedded = embedded.stop;
  }

  const template = `${prefix}_template`;
  await admin(adminUrl, `create database ${pg.escapeIdentifier(template)}`);
  const orm = await openOrm(withDatabase(adminUrl, template));
  await migrate(orm);
  await orm.close();

  project.provide('testAdminUrl', adminUrl);
  project.provide('testTemplateDatabase', template);
  project.provide('testDatabasePrefix', prefix);

  return async () => {
    const leftovers = await admin(adminUrl, 'select datname from pg_database where datname like $1', [`${prefix}%`]);
    for (const { datname } of leftovers.rows) {
      await admin(adminUrl, `drop database if exists ${pg.escapeIdentifier(datname)} with (force)`);
    }
    await stopEmbedded?.();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };
}

async function admin(url: string, sql: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}
