/**
 * `npm start`: the whole configuration checked first, then one database (embedded PostgreSQL as a child
 * when DATABASE_URL is unset), migrations applied, then the IRC service and the web side as child
 * processes sharing one generated INTERNAL_API_TOKEN. With `IRC_NODES=N`, N IRC service nodes on consecutive
 * ports form a local cluster the web side knows through `IRC_SERVICE_URLS`. A child that exits unexpectedly is
 * restarted alone (one_for_one, see process/supervisor.ts); SIGINT/SIGTERM stop them, the last started first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.ts';
import { withoutPassword, withPasswordMasked } from './db/database-url.ts';
import type { DatabaseReady } from './db/embedded-database-main.ts';
import { migrate, openOrm } from './db/orm.ts';
import { createLogger } from './logger.ts';
import { freePort } from './process/free-port.ts';
import { runMain } from './process/run-main.ts';
import {
  type ChildSpec,
  DEFAULT_RESTART_POLICY,
  OneForOneSupervisor,
  type SupervisedProcess,
} from './process/supervisor.ts';

const READY_TIMEOUT_MS = 30_000;

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function startChild(name: string, entry: string, env: NodeJS.ProcessEnv, args: string[] = []): ChildProcess {
  const path = fileURLToPath(new URL(entry, import.meta.url));
  // The IPC channel lets a child notice that this process died, even by SIGKILL (see runMain). Its own
  // process group keeps a terminal's Ctrl-C (sent to the whole foreground group) from reaching the
  // children directly: this process stops them, in order.
  return spawn(process.execPath, ['--import', 'tsx', path, ...args], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  }).once('error', (error) => console.error(`start: could not start the ${name}: ${error.message}`));
}

function httpSide(name: string, entry: string, url: string, env: NodeJS.ProcessEnv): ChildSpec {
  return {
    name,
    start: () => startChild(name, entry, env),
    ready: (child) => waitUntilHealthy(url, child, READY_TIMEOUT_MS),
  };
}

/** The embedded PostgreSQL, always on the same port so that the sides' DATABASE_URL survives its restarts. */
function embeddedDatabase(port: number, onUrl: (url: string) => void): ChildSpec<ChildProcess> {
  const name = 'embedded PostgreSQL';
  return {
    name,
    start: () => startChild(name, './db/embedded-database-main.ts', process.env, [String(port)]),
    ready: (child) =>
      new Promise((resolve) => {
        const timeout = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
        child.on('message', (message: DatabaseReady) => {
          if (message?.type !== 'database-ready') return;
          clearTimeout(timeout);
          onUrl(message.url);
          resolve(true);
        });
        child.once('exit', () => {
          clearTimeout(timeout);
          resolve(false);
        });
      }),
  };
}

/** `IRC_NODES` local nodes on consecutive ports, each named as the IRC service names itself by default. */
function localIrcNodes(host: string, firstPort: number, count: number) {
  return Array.from({ length: count }, (_, index) => {
    const port = firstPort + index;
    return { name: `node-${port}`, port, url: `http://${urlHost(host)}:${port}` };
  });
}

async function waitUntilHealthy(url: string, child: SupervisedProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/**
 * Where the database is. The embedded cluster's password is a fixed one of that loopback-only cluster (it
 * is in the source), so the URL leaves it out and the psql line names it; an operator's DATABASE_URL
 * carries a real secret, which is masked.
 */
function databaseLines(url: string, embedded: boolean, dataDir: string): string[] {
  if (!embedded) return [`  database:        ${withPasswordMasked(url)}`];
  const password = decodeURIComponent(new URL(url).password);
  const address = withoutPassword(url);
  return [
    `  database:        ${address} (embedded, in ${dataDir})`,
    `  psql:            PGPASSWORD=${password} psql ${address}`,
  ];
}

await runMain(
  'start',
  async (onShutdown) => {
    // The whole configuration, both sides' included, is checked before anything starts or is written.
    const config = loadConfig(process.env, 'database');
    const ircNodes = localIrcNodes(config.IRC_SERVICE_HOST, config.IRC_SERVICE_PORT, config.IRC_NODES);
    const [ircUrl] = ircNodes.map((node) => node.url) as [string];
    const webUrl = `http://${urlHost(config.HOST)}:${config.PORT}`;
    const sideEnv: NodeJS.ProcessEnv = {
      ...process.env,
      INTERNAL_API_TOKEN: process.env.INTERNAL_API_TOKEN || randomBytes(24).toString('base64url'),
      IRC_SERVICE_URL: process.env.IRC_SERVICE_URL || ircUrl,
      IRC_SERVICE_URLS:
        process.env.IRC_SERVICE_URLS ||
        (ircNodes.length > 1 ? ircNodes.map((node) => `${node.name}=${node.url}`).join(',') : ''),
    };
    for (const node of ircNodes) loadConfig({ ...sideEnv, IRC_SERVICE_PORT: String(node.port) }, 'irc');
    loadConfig(sideEnv, 'web');
    const logger = createLogger('start', config.LOG_LEVEL);

    const supervisor = new OneForOneSupervisor({
      policy: DEFAULT_RESTART_POLICY,
      log: (line) => console.error(`start: ${line}`),
      onGiveUp: (line) => {
        console.error(`start: ${line}`);
        process.exitCode = 1;
        process.kill(process.pid, 'SIGTERM');
      },
    });
    onShutdown(() => supervisor.stop());

    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      logger.info({ dataDir: config.DATA_DIR }, 'no DATABASE_URL: starting the embedded PostgreSQL');
      await supervisor.startChild(
        embeddedDatabase(await freePort(), (url) => {
          databaseUrl = url;
        }),
      );
    }
    const orm = await openOrm(databaseUrl!);
    try {
      const applied = await migrate(orm);
      logger.info(applied.length ? { applied } : {}, applied.length ? 'migrations applied' : 'database is up to date');
    } finally {
      await orm.close();
    }

    const env: NodeJS.ProcessEnv = { ...sideEnv, DATABASE_URL: databaseUrl };
    await Promise.all([
      ...ircNodes.map((node) =>
        supervisor.startChild(
          httpSide(
            ircNodes.length > 1 ? `IRC service ${node.name}` : 'IRC service',
            './irc-service/main.ts',
            node.url,
            {
              ...env,
              IRC_SERVICE_PORT: String(node.port),
              // each node of a local cluster under the name IRC_SERVICE_URLS gives it
              ...(ircNodes.length > 1 ? { IRC_NODE_ID: node.name } : {}),
            },
          ),
        ),
      ),
      supervisor.startChild(httpSide('web side', './web/main.ts', webUrl, env)),
    ]);
    console.log(
      [
        '',
        '  irc-supervisor is running',
        `  web (dashboard): ${webUrl}`,
        ...ircNodes.map((node) =>
          ircNodes.length > 1 ? `  IRC service ${node.name}: ${node.url}` : `  IRC service:     ${node.url}`,
        ),
        ...databaseLines(databaseUrl!, !config.DATABASE_URL, config.DATA_DIR),
        '',
      ].join('\n'),
    );
  },
  // the children stop one after the other
  { shutdownTimeoutMs: 3 * DEFAULT_RESTART_POLICY.stopTimeoutMs + 5_000 },
);
