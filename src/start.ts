import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.ts';
import { openDatabase } from './db/database-url.ts';
import { migrate, openOrm } from './db/orm.ts';
import { createLogger } from './logger.ts';
import { runMain } from './process/run-main.ts';

/**
 * `npm start`: one database (embedded when DATABASE_URL is unset), migrations applied, then the IRC
 * service and the web side as two child processes sharing one generated INTERNAL_API_TOKEN.
 * When either child dies the other is stopped and this process exits non-zero.
 */
const CHILD_STOP_TIMEOUT_MS = 8_000;

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function startChild(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const path = fileURLToPath(new URL(entry, import.meta.url));
  // the IPC channel lets a side notice that this process died, even by SIGKILL (see runMain)
  return spawn(process.execPath, ['--import', 'tsx', path], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }).once('error', (error) => console.error(`start: could not start ${name}: ${error.message}`));
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function waitUntilHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
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

await runMain(
  'start',
  async (onShutdown) => {
    const config = loadConfig(process.env, 'database');
    const logger = createLogger('start', config.LOG_LEVEL);

    const database = await openDatabase(config, logger);
    onShutdown(() => database.stop());
    const orm = await openOrm(database.url);
    try {
      const applied = await migrate(orm);
      logger.info(applied.length ? { applied } : {}, applied.length ? 'migrations applied' : 'database is up to date');
    } finally {
      await orm.close();
    }

    const ircUrl = `http://${urlHost(config.IRC_SERVICE_HOST)}:${config.IRC_SERVICE_PORT}`;
    const webUrl = `http://${urlHost(config.HOST)}:${config.PORT}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      INTERNAL_API_TOKEN: process.env.INTERNAL_API_TOKEN || randomBytes(24).toString('base64url'),
      IRC_SERVICE_URL: process.env.IRC_SERVICE_URL || ircUrl,
    };

    const children = new Map<string, ChildProcess>([
      ['IRC service', startChild('IRC service', './irc-service/main.ts', env)],
      ['web', startChild('web', './web/main.ts', env)],
    ]);
    let stopping = false;
    onShutdown(async () => {
      stopping = true;
      await Promise.all([...children.values()].map(stopChild));
    });
    for (const [name, child] of children) {
      child.once('exit', (code, signal) => {
        if (stopping) return;
        console.error(`start: the ${name} exited (${signal ?? `code ${code}`}); stopping everything`);
        process.exitCode = 1;
        process.kill(process.pid, 'SIGTERM');
      });
    }

    const [ircUp, webUp] = await Promise.all([
      waitUntilHealthy(ircUrl, children.get('IRC service')!, 30_000),
      waitUntilHealthy(webUrl, children.get('web')!, 30_000),
    ]);
    if (!ircUp || !webUp) throw new Error(`the ${ircUp ? 'web side' : 'IRC service'} did not become healthy in 30 s`);
    console.log(`\n  irc-supervisor is running\n  web (dashboard): ${webUrl}\n  IRC service:     ${ircUrl}\n`);
  },
  { shutdownTimeoutMs: CHILD_STOP_TIMEOUT_MS + 5_000 },
);
