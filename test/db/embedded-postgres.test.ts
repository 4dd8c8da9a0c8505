import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { EmbeddedPostgresError } from '../../src/db/embedded-postgres-error.ts';
import { isAlive, runProjectProcess } from '../support/process.ts';
import { makeTempDir } from '../support/temp-dir.ts';

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('keeps its data across a stop and a start', async () => {
    const dir = await makeTempDir('embedded-reuse');
    cleanups.push(dir.remove);

    const first = await startEmbeddedPostgres({ dataDir: dir.path, database: 'app' });
    cleanups.push(first.stop);
    await query(first.url, 'create table kept (n int); insert into kept values (42)');
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir: dir.path, database: 'app' });
    cleanups.push(second.stop);
    expect(await query(second.url, 'select n from kept')).toEqual([{ n: 42 }]);
  });

  it('refuses a data folder that a running instance uses, leaving that instance intact', async () => {
    const dir = await makeTempDir('embedded-busy');
    cleanups.push(dir.remove);
    const running = await startEmbeddedPostgres({ dataDir: dir.path, database: 'app' });
    cleanups.push(running.stop);

    const second = startEmbeddedPostgres({ dataDir: dir.path, database: 'app' });

    await expect(second).rejects.toThrow(EmbeddedPostgresError);
    await expect(second).rejects.toThrow(/is in use by another running PostgreSQL \(pid \d+\)/);
    expect(await query(running.url, 'select 1 as alive')).toEqual([{ alive: 1 }]);
  });

  it('stops a PostgreSQL left running by a killed app and starts on its data', async () => {
    const dir = await makeTempDir('embedded-orphan');
    cleanups.push(dir.remove);
    const holder = runProjectProcess('test/fixtures/hold-embedded-postgres.ts', { DATA_DIR: dir.path });
    cleanups.push(holder.kill);
    const [, url] = (await holder.waitForOutput(/ready (\S+)/)) as RegExpMatchArray;
    await query(url!, 'create table kept (n int); insert into kept values (7)');
    const orphan = Number((await readFile(join(dir.path, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);

    await holder.kill();
    expect(isAlive(orphan)).toBe(true);
    const restarted = await startEmbeddedPostgres({ dataDir: dir.path, database: 'app' });
    cleanups.push(restarted.stop);

    expect(isAlive(orphan)).toBe(false);
    expect(await query(restarted.url, 'select n from kept')).toEqual([{ n: 7 }]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'says plainly when root starts it under a folder postgres cannot enter',
    async () => {
      const dir = await makeTempDir('embedded-private');
      cleanups.push(dir.remove);
      const privateHome = join(dir.path, 'home');
      await mkdir(privateHome);
      await chmod(privateHome, 0o700);

      const start = startEmbeddedPostgres({ dataDir: join(privateHome, '.data'), database: 'app' });

      await expect(start).rejects.toThrow(/cannot enter; set DATA_DIR to a folder it can reach/);
    },
  );
});
