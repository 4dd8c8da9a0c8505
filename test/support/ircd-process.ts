/**
 * What a real IRC server is to an end-to-end test, whichever it is (ngircd.ts, inspircd.ts): a process on a
 * loopback port, with a config of its own in a temp folder, that a test can kill, hang, resume, stop and
 * start again on the same port. Its output (stdout and stderr, all runs, plus any log file it writes) is kept
 * for `output()` and `waitForLog()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Watched } from './watched.ts';

export interface IrcServerProcess {
  readonly host: string;
  readonly port: number;
  /** The server name, as in its replies (`:irc.test 001 ...`). */
  readonly name: string;
  /** pid of the current run; undefined while it is not running. */
  readonly pid: number | undefined;
  /** Everything the server printed (and logged to its log file) so far, over all its runs. */
  output(): string;
  /** Resolves when its printed output (from now on, or from the start with `fromStart`) matches. */
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

export interface IrcServerLaunch {
  /** For messages: `ngircd`, `inspircd`. */
  program: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** What it prints once it accepts connections. */
  ready: RegExp;
  startTimeoutMs: number;
  port: number;
  name: string;
  /** Its temp folder, removed by dispose(). */
  folder: { remove(): Promise<void> };
  /** A log file it writes besides what it prints, appended to output(). */
  logFile?: string;
}

function readIfThere(path: string | undefined): string {
  if (path === undefined) return '';
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Starts the server and resolves once it prints that it is ready (rejects with its output if it exits first). */
export async function runIrcServer(launch: IrcServerLaunch): Promise<IrcServerProcess> {
  const { program } = launch;
  let printed = '';
  const printedWatch = new Watched();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const output = () => printed + readIfThere(launch.logFile);

  const waitForLog: IrcServerProcess['waitForLog'] = (pattern, { timeoutMs = 10_000, fromStart = false } = {}) => {
    const offset = fromStart ? 0 : printed.length;
    return printedWatch.until(
      () => printed.slice(offset).match(pattern),
      timeoutMs,
      () => `${program} did not print ${pattern} within ${timeoutMs} ms:\n${output()}`,
    );
  };

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const start = async () => {
    const ready = waitForLog(launch.ready, { timeoutMs: launch.startTimeoutMs });
    const process_ = spawn(launch.command, launch.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...launch.env },
    });
    child = process_;
    const append = (chunk: Buffer) => {
      printed += chunk.toString();
      printedWatch.changed();
    };
    process_.stdout?.on('data', append);
    process_.stderr?.on('data', append);
    exited = new Promise((resolve) => process_.once('exit', () => resolve()));
    const early = exited.then(() => {
      throw new Error(`${program} exited before listening:\n${output()}`);
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

  await start();

  return {
    host: '127.0.0.1',
    port: launch.port,
    name: launch.name,
    get pid() {
      return running() ? child?.pid : undefined;
    },
    output,
    waitForLog,
    async kill(signal) {
      if (!running()) throw new Error(`${program} is not running; cannot send ${signal}`);
      child?.kill(signal);
      if (signal === 'SIGKILL') await exited;
    },
    stop,
    async restart() {
      if (running()) throw new Error(`${program} is still running; kill or stop it before restart()`);
      await start();
    },
    async dispose() {
      if (running()) {
        child?.kill('SIGCONT');
        child?.kill('SIGKILL');
        await exited;
      }
      await launch.folder.remove();
    },
  };
}
