/**
 * @module
 * The embedded PostgreSQL as a side of its own, started by `npm start` when DATABASE_URL is unset, so
 * that it is supervised like the two others: it reports its URL over IPC once it accepts connections,
 * exits 1 when PostgreSQL dies (the supervisor restarts it on the same port, so the URL the sides hold
 * stays right), and stops PostgreSQL when it is stopped or when `npm start` dies (IPC disconnect).
 * Usage: node --import tsx embedded-database-main.ts <port>
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { isRunning } from '../process/is-running.ts';
import { runMain } from '../process/run-main.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

export const EMBEDDED_DATABASE_NAME = 'irc_supervisor';
/** How often the postmaster is checked for life: its death is noticed within this. */
const POSTMASTER_POLL_MS = 200;

/** The message this side sends its parent once PostgreSQL accepts connections. */
export interface DatabaseReady {
  type: 'database-ready';
  url: string;
}

await runMain('database', async (onShutdown) => {
  const config = loadConfig(process.env, 'database');
  const logger = createLogger('database', config.LOG_LEVEL);
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port < 1) throw new Error(`expected a port argument, got ${process.argv[2]}`);

  const postgres = await startEmbeddedPostgres({
    dataDir: config.DATA_DIR,
    database: EMBEDDED_DATABASE_NAME,
    port,
    onLog: (line) => logger.debug({ postgres: line }),
  });
  const clusterDir = join(resolve(config.DATA_DIR), 'postgres');
  const postmaster = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let died = false;
  const watch = setInterval(() => {
    if (isRunning(postmaster)) return;
    died = true;
    clearInterval(watch);
    console.error(`database: PostgreSQL (pid ${postmaster}) exited`);
    process.exit(1);
  }, POSTMASTER_POLL_MS);
  onShutdown(async () => {
    clearInterval(watch);
    // a cluster whose process is gone never answers a stop
    if (!died) await postgres.stop();
  });
  logger.info({ dataDir: config.DATA_DIR, port }, 'embedded PostgreSQL is up');
  process.send?.({ type: 'database-ready', url: postgres.url } satisfies DatabaseReady);
});
