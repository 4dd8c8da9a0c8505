import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded-postgres.ts';
import { eventually, isAlive, type RunningProcess, runProjectProcess } from '../support/process.ts';
import { makeTempDir } from '../support/temp-dir.ts';

/** The pids of the two sides (Node children running a main.ts), not the embedded PostgreSQL. */
function sidePids(pid: number): number[] {
  let children: number[];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    return [];
  }
  return children.filter((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('main.ts'));
}

function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

describe('npm start (src/start.ts) on an embedded PostgreSQL', () => {
  const running: RunningProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const process of running.splice(0)) await process.kill();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function start(dataDir: string, extra: NodeJS.ProcessEnv = {}) {
    const [webPort, ircPort] = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: '',
      INTERNAL_API_TOKEN: '',
      DATA_DIR: dataDir,
      PORT: String(webPort),
      IRC_SERVICE_PORT: String(ircPort),
      ...extra,
    };
    const started = runProjectProcess('src/start.ts', env);
    running.push(started);
    return { started, webUrl: `http://127.0.0.1:${webPort}`, ircUrl: `http://127.0.0.1:${ircPort}` };
  }

  /** A new start on the folder finds its database migrated already, serves, and stops cleanly on SIGTERM. */
  async function expectRestartOnTheSameData(dataDir: string) {
    const again = await start(dataDir);
    await again.started.waitForOutput(/irc-supervisor is running/);
    expect(again.started.output()).toContain('database is up to date');
    again.started.child.kill('SIGTERM');
    expect(await again.started.exited).toBe(0);
  }

  it('serves both sides, stops everything on Ctrl-C, and reuses the data on the next start', async () => {
    const dir = await makeTempDir('start-e2e');
    cleanups.push(dir.remove);

    const first = await start(dir.path);
    await first.started.waitForOutput(/irc-supervisor is running/);
    expect((await fetch(`${first.webUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${first.ircUrl}/healthz`)).status).toBe(200);
    expect(first.started.output()).toContain('migrations applied');
    const postgres = postmasterPid(dir.path);
    const sides = sidePids(first.started.child.pid!);
    expect(sides).toHaveLength(2);

    first.started.child.kill('SIGINT');

    expect(await first.started.exited).toBe(0);
    for (const pid of [postgres, ...sides]) expect(isAlive(pid), `pid ${pid} left behind`).toBe(false);
    expect(existsSync(join(dir.path, 'postgres', 'postmaster.pid'))).toBe(false);

    await expectRestartOnTheSameData(dir.path);
  });

  it('exits non-zero and stops the other side when one side dies', async () => {
    const dir = await makeTempDir('start-e2e-death');
    cleanups.push(dir.remove);
    const { started, webUrl } = await start(dir.path);
    await started.waitForOutput(/irc-supervisor is running/);
    const sides = sidePids(started.child.pid!);
    const postgres = postmasterPid(dir.path);
    const web = sides.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('web/main.ts'));
    expect(web).toBeDefined();

    process.kill(web!, 'SIGKILL');

    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/the web exited \(SIGKILL\); stopping everything/);
    for (const pid of [...sides, postgres]) await eventually(() => !isAlive(pid));
    await expect(fetch(`${webUrl}/healthz`)).rejects.toThrow();
  });

  it('takes both sides down with it when killed outright, and the next start recovers its database', async () => {
    const dir = await makeTempDir('start-e2e-kill');
    cleanups.push(dir.remove);
    const first = await start(dir.path);
    await first.started.waitForOutput(/irc-supervisor is running/);
    const sides = sidePids(first.started.child.pid!);
    expect(sides).toHaveLength(2);

    first.started.child.kill('SIGKILL');

    for (const pid of sides) await eventually(() => !isAlive(pid), 10_000);
    await expectRestartOnTheSameData(dir.path);
  });

  it('refuses bad configuration with one line naming the variable', async () => {
    const dir = await makeTempDir('start-e2e-bad');
    cleanups.push(dir.remove);
    const { started } = await start(dir.path, { HEALTH_CHECK_INTERVAL_MS: 'soon' });

    expect(await started.exited).toBe(1);
    expect(started.output().trim()).toBe(
      'start: HEALTH_CHECK_INTERVAL_MS is invalid: expected a whole number, got "soon"',
    );
  });
});
