import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/process/free-port.ts';
import { eventually, isAlive, type RunningProcess, runProjectProcess } from '../support/process.ts';
import { commandLine, descendantPids } from '../support/process-tree.ts';
import { makeTempDir } from '../support/temp-dir.ts';

/** The pids of the children (Node processes running a main.ts): both sides and the embedded database's. */
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

/** The pid of the side whose command line names this entry. */
function sidePid(pid: number, entry: string): number {
  const found = sidePids(pid).filter((child) => commandLine(child).includes(entry));
  expect(found, `one ${entry} under ${pid}`).toHaveLength(1);
  return found[0]!;
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
    expect(sides).toHaveLength(3);

    first.started.child.kill('SIGINT');

    expect(await first.started.exited).toBe(0);
    for (const pid of [postgres, ...sides]) expect(isAlive(pid), `pid ${pid} left behind`).toBe(false);
    expect(existsSync(join(dir.path, 'postgres', 'postmaster.pid'))).toBe(false);

    await expectRestartOnTheSameData(dir.path);
  }, 60_000);

  it('restarts the IRC service alone when it is killed, while the web side keeps serving', async () => {
    const dir = await makeTempDir('start-e2e-restart');
    cleanups.push(dir.remove);
    const { started, webUrl, ircUrl } = await start(dir.path);
    await started.waitForOutput(/irc-supervisor is running/);
    const web = sidePid(started.child.pid!, 'web/main.ts');
    const irc = sidePid(started.child.pid!, 'irc-service/main.ts');
    const webAnswers: number[] = [];
    let outage = true;
    const watchWeb = (async () => {
      while (outage) {
        webAnswers.push((await fetch(`${webUrl}/healthz`)).status);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const killedAt = performance.now();
    process.kill(irc, 'SIGKILL');
    await eventually(async () => (await fetch(`${ircUrl}/healthz`)).ok, 30_000, 20);
    const backAfterMs = Math.round(performance.now() - killedAt);
    outage = false;
    await watchWeb;

    console.log(`the IRC service served again ${backAfterMs} ms after its SIGKILL`);
    expect(started.output()).toContain('start: the IRC service exited (SIGKILL); restarting it in 250 ms');
    await started.waitForOutput(/start: the IRC service is serving again \(pid \d+/);
    expect(sidePid(started.child.pid!, 'irc-service/main.ts')).not.toBe(irc);
    expect(sidePid(started.child.pid!, 'web/main.ts')).toBe(web);
    expect(webAnswers.length).toBeGreaterThan(0);
    expect(new Set(webAnswers)).toEqual(new Set([200]));
    expect(started.child.exitCode).toBeNull();
  }, 60_000);

  it('gives up with one line and exit 1 when a side keeps failing, stopping the rest', async () => {
    const dir = await makeTempDir('start-e2e-give-up');
    cleanups.push(dir.remove);
    const { started, webUrl, ircUrl } = await start(dir.path);
    await started.waitForOutput(/irc-supervisor is running/);
    const everything = [...descendantPids(started.child.pid!), postmasterPid(dir.path)];
    const irc = sidePid(started.child.pid!, 'irc-service/main.ts');

    // its port taken by another program: every restart of the IRC service fails
    process.kill(irc, 'SIGKILL');
    await eventually(() => !isAlive(irc));
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(Number(new URL(ircUrl).port), '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => squatter.close(() => resolve())));

    expect(await started.exited).toBe(1);
    const lines = started.output().split('\n');
    expect(lines.filter((line) => line.includes('giving up'))).toEqual([
      'start: the IRC service exited (code 1) after 5 restarts within 60 s; giving up',
    ]);
    for (const pid of everything) await eventually(() => !isAlive(pid), 5_000);
    await expect(fetch(`${webUrl}/healthz`)).rejects.toThrow();
  }, 90_000);

  it('takes both sides down with it when killed outright, and the next start recovers its database', async () => {
    const dir = await makeTempDir('start-e2e-kill');
    cleanups.push(dir.remove);
    const first = await start(dir.path);
    await first.started.waitForOutput(/irc-supervisor is running/);
    const sides = sidePids(first.started.child.pid!);
    expect(sides).toHaveLength(3);

    first.started.child.kill('SIGKILL');

    for (const pid of sides) await eventually(() => !isAlive(pid), 10_000);
    await expectRestartOnTheSameData(dir.path);
  }, 60_000);

  it.each([
    [{ HEALTH_CHECK_INTERVAL_MS: 'soon' }, 'HEALTH_CHECK_INTERVAL_MS is invalid: expected a whole number, got "soon"'],
    [{ HOST: '0.0.0.0' }, 'WEB_PASSWORD is required when HOST is not a loopback address (HOST=0.0.0.0)'],
    [{ INTERNAL_API_TOKEN: 'short' }, 'INTERNAL_API_TOKEN is invalid: expected at least 16 characters, got (hidden)'],
    [{ IRC_SERVICE_URL: 'ftp://x' }, 'IRC_SERVICE_URL is invalid'],
  ])('refuses bad configuration (%o) with one line naming the variable, before anything starts', async (bad, line) => {
    const dir = await makeTempDir('start-e2e-bad');
    cleanups.push(dir.remove);
    const dataDir = join(dir.path, 'data');
    const { started } = await start(dataDir, bad);

    expect(await started.exited).toBe(1);
    const output = started.output().trim();
    expect(output.split('\n')).toHaveLength(1);
    expect(output.startsWith(`start: ${line}`), output).toBe(true);
    // no database started, nothing written
    expect(existsSync(dataDir)).toBe(false);
  });
});
