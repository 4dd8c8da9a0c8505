import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/process/free-port.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { eventually, isAlive, type RunningProcess, runCommand } from '../support/process.ts';
import { commandLine, descendantPids, isPortFree } from '../support/process-tree.ts';
import { makeTempDir } from '../support/temp-dir.ts';

/**
 * Docker, systemd with KillMode=process and most process managers signal only the pid they started:
 * each documented command must stop cleanly when SIGTERM or SIGINT reaches that pid alone.
 */
const TOKEN = 'a-token-of-at-least-sixteen-characters';

interface Command {
  script: string;
  /** The environment it needs, and the ports it serves on (the first one answers /healthz). */
  prepare(): Promise<{ env: NodeJS.ProcessEnv; ports: number[] }>;
}

describe('each documented command, signalled on its own pid only', () => {
  const running: RunningProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const started of running.splice(0)) await started.kill();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  const commands: Command[] = [
    {
      script: 'start:web',
      async prepare() {
        const db: TestDatabase = await createTestDatabase();
        cleanups.push(db.drop);
        const port = await freePort();
        const env = {
          DATABASE_URL: db.url,
          PORT: String(port),
          INTERNAL_API_TOKEN: TOKEN,
          // nothing listens there: the web side serves anyway
          IRC_SERVICE_URL: `http://127.0.0.1:${await freePort()}`,
        };
        return { env, ports: [port] };
      },
    },
    {
      script: 'start:irc',
      async prepare() {
        const port = await freePort();
        return { env: { IRC_SERVICE_PORT: String(port), INTERNAL_API_TOKEN: TOKEN }, ports: [port] };
      },
    },
    {
      script: 'start',
      async prepare() {
        const dir = await makeTempDir('signals-start');
        cleanups.push(dir.remove);
        const [webPort, ircPort] = [await freePort(), await freePort()];
        const env = {
          DATABASE_URL: '',
          INTERNAL_API_TOKEN: '',
          DATA_DIR: dir.path,
          PORT: String(webPort),
          IRC_SERVICE_PORT: String(ircPort),
        };
        return { env, ports: [webPort, ircPort] };
      },
    },
  ];

  for (const command of commands) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`npm run ${command.script}: ${signal} → exit 0, no process left, ports free`, async () => {
        const { env, ports } = await command.prepare();
        const started = runCommand('npm', ['run', command.script], env);
        running.push(started);
        const npmPid = started.child.pid!;
        await eventually(async () => (await fetch(`http://127.0.0.1:${ports[0]}/healthz`)).ok, 45_000, 100);
        for (const port of ports.slice(1)) expect(await isPortFree(port)).toBe(false);
        const descendants = descendantPids(npmPid);
        expect(descendants.map(commandLine).join('\n')).toMatch(/main\.ts|start\.ts/);

        process.kill(npmPid, signal);

        expect(await started.exited, started.output()).toBe(0);
        // what the processes ran (e.g. esbuild) is gone a moment after them
        await eventually(() => descendants.every((pid) => !isAlive(pid)), 3_000).catch(() => {
          const left = descendants.filter(isAlive).map((pid) => `${pid}: ${commandLine(pid)}`);
          throw new Error(`left behind:\n${left.join('\n')}`);
        });
        for (const port of ports) expect(await isPortFree(port), `port ${port}`).toBe(true);
      }, 90_000);
    }
  }
});
