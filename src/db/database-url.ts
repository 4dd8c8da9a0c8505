/** Opens the database the configuration names: DATABASE_URL, or an embedded PostgreSQL in DATA_DIR. */
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { type RunningPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';

export interface Database {
  url: string;
  /** Stops the embedded PostgreSQL when this process started one; a no-op for DATABASE_URL. */
  stop(): Promise<void>;
}

/** DATABASE_URL when given; otherwise an embedded PostgreSQL in DATA_DIR. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, stop: async () => {} };
  logger.info({ dataDir: config.DATA_DIR }, 'no DATABASE_URL: starting the embedded PostgreSQL');
  const embedded: RunningPostgres = await startEmbeddedPostgres({
    dataDir: config.DATA_DIR,
    database: 'irc_supervisor',
    onLog: (line) => logger.debug({ postgres: line }),
  });
  return { url: embedded.url, stop: () => embedded.stop() };
}

/** The same server URL with another database (e.g. the maintenance database `postgres`). */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The URL without its password: how the embedded cluster's address is printed (its password is fixed, see embedded-postgres.ts). */
export function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/** The URL with its password, if it has one, shown as `***`: an operator's DATABASE_URL carries a real secret. */
export function withPasswordMasked(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
