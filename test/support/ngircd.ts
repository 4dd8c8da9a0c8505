/**
 * A real IRC server for end-to-end tests: one ngircd per test (or file) on a free loopback port, with
 * a config of its own in a temp folder, ready in about 60 ms.
 *
 * ```ts
 * describe.skipIf(lacks('ngircd'))('...', () => {
 *   let ircd: Ngircd;
 *   beforeEach(async () => { ircd = await startNgircd(); });
 *   afterEach(() => ircd.dispose());
 *
 *   it('...', async () => {
 *     // connect to ircd.host:ircd.port
 *     await ircd.kill('SIGKILL');   // the network dies; kill('SIGSTOP') hangs it, kill('SIGCONT') resumes it
 *     await ircd.restart();         // the network comes back on the same port
 *   });
 * });
 * ```
 *
 * The config is what STACK.md found to work for tests: no connection limit per IP, 30-character
 * nicknames, no penalty time (else every JOIN waits about a second), no PAM/ident/DNS lookups.
 * Its log (stdout of `ngircd -n`, all runs) is kept for `output()` and `waitForLog()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/process/free-port.ts';
import { NGIRCD } from './requirements.ts';
import { makeTempDir } from './temp-dir.ts';
import { Watched } from './watched.ts';

export interface Ngircd {
  readonly host: string;
  readonly port: number;
  /** The server name, as in its replies (`:irc.test 001 ...`). */
  readonly name: string;
  /** pid of the current run; undefined while it is not running. */
  readonly pid: number | undefined;
  /** Everything ngircd logged so far, over all its runs. */
  output(): string;
  /** Resolves when the log (from now on, or from the start with `fromStart`) matches. */
  waitForLog(pattern: RegExp, options?: { timeoutMs?: number; fromStart?: boolean }): Promise<RegExpMatchArray>;
  /**
   * Sends a signal to the running server: SIGKILL (a dead network; resolves once it has exited),
   * SIGSTOP (a hung network that keeps its sockets open), SIGCONT (resumes a hung one).
   */
  kill(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void>;
  /** Stops it gracefully (resuming it first if it is hung); resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and config (after kill('SIGKILL') or stop()). */
  restart(): Promise<void>;
  /** Stops it if needed and removes its temp folder (test cleanup). */
  dispose(): Promise<void>;
}

export interface NgircdOptions {
  /** Port to listen on; a free one by default. */
  port?: number;
  /** Server name; `irc.test` by default. */
  name?: string;
  /** Extra lines for the [Limits] section, e.g. `PingTimeout = 5` or `MaxNickLength = 9`. */
  limits?: string[];
  /**
   * `none` (the default here): no penalty time, so test bots are never slowed. `default`: ngircd's own flood
   * control, about one command a second once a client has sent a burst, for tests of our flood control.
   */
  penalties?: 'none' | 'default';
  /** Longest wait for it to listen. */
  startTimeoutMs?: number;
}

function configText(
  name: string,
  port: number,
  includeDir: string,
  limits: string[],
  penalties: 'none' | 'default',
): string {
  return [
    '[Global]',
    `Name = ${name}`,
    'Info = irc-supervisor test server',
    'AdminInfo1 = irc-supervisor tests',
    'AdminInfo2 = loopback only',
    'AdminEMail = tests@example.invalid',
    'Listen = 127.0.0.1',
    `Ports = ${port}`,
    '[Limits]',
    'MaxConnectionsIP = 0',
    ...(limits.some((line) => /^MaxNickLength\b/.test(line)) ? [] : ['MaxNickLength = 30']),
    ...(penalties === 'none' ? ['MaxPenaltyTime = 0'] : []),
    ...limits,
    '[Options]',
    'PAM = no',
    'Ident = no',
    'DNS = no',
    `IncludeDir = ${includeDir}`,
    '',
  ].join('\n');
}

export async function startNgircd(options: NgircdOptions = {}): Promise<Ngircd> {
  const binary = NGIRCD;
  if (!binary) throw new Error("ngircd is not installed; guard the test with describe.skipIf(lacks('ngircd'))");
  const name = options.name ?? 'irc.test';
  const port = options.port ?? (await freePort());
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;

  // As root, ngircd drops to `nobody`, which must still read its config and include folder.
  const folder = await makeTempDir('ngircd');
  const includeDir = join(folder.path, 'conf.d');
  await mkdir(includeDir);
  await chmod(includeDir, 0o755);
  const configPath = join(folder.path, 'ngircd.conf');
  await writeFile(configPath, configText(name, port, includeDir, options.limits ?? [], options.penalties ?? 'none'));
  await chmod(configPath, 0o644);

  let log = '';
  const logWatch = new Watched();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const waitForLog: Ngircd['waitForLog'] = (pattern, { timeoutMs = 10_000, fromStart = false } = {}) => {
    const offset = fromStart ? 0 : log.length;
    return logWatch.until(
      () => log.slice(offset).match(pattern),
      timeoutMs,
      () => `ngircd did not log ${pattern} within ${timeoutMs} ms:\n${log}`,
    );
  };

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const launch = async () => {
    const ready = waitForLog(/Now listening on \[127\.0\.0\.1\]:\d+/, { timeoutMs: startTimeoutMs });
    const process_ = spawn(binary, ['-n', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = process_;
    const append = (chunk: Buffer) => {
      log += chunk.toString();
      logWatch.changed();
    };
    process_.stdout?.on('data', append);
    process_.stderr?.on('data', append);
    exited = new Promise((resolve) => process_.once('exit', () => resolve()));
    const early = exited.then(() => {
      throw new Error(`ngircd exited before listening:\n${log}`);
    });
    await Promise.race([ready, early]);
    early.catch(() => {});
  };

  const stop = async () => {
    if (!running()) return;
    child?.kill('SIGCONT');
    child?.kill('SIGTERM');
    await exited;
  };

  await launch();

  return {
    host: '127.0.0.1',
    port,
    name,
    get pid() {
      return running() ? child?.pid : undefined;
    },
    output: () => log,
    waitForLog,
    async kill(signal) {
      if (!running()) throw new Error(`ngircd is not running; cannot send ${signal}`);
      child?.kill(signal);
      if (signal === 'SIGKILL') await exited;
    },
    stop,
    async restart() {
      if (running()) throw new Error('ngircd is still running; kill or stop it before restart()');
      await launch();
    },
    async dispose() {
      if (running()) {
        child?.kill('SIGCONT');
        child?.kill('SIGKILL');
        await exited;
      }
      await folder.remove();
    },
  };
}
