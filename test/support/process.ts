/** Runs project entry points and npm commands as real processes, output captured. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Watched } from './watched.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves when the output matches; rejects with the output when the process exits first or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** SIGKILLs the process if it is still running (test cleanup). */
  kill(): Promise<void>;
}

/** Runs a TypeScript entry of the project as a real Node process (through tsx), output captured. */
export function runProjectProcess(entry: string, env: NodeJS.ProcessEnv, nodeFlags: string[] = []): RunningProcess {
  return runCommand(process.execPath, [...nodeFlags, '--import', 'tsx', entry], env);
}

export interface StartServingOptions {
  /** Flags for Node before the entry (e.g. `--cpu-prof`). */
  nodeFlags?: string[];
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Runs a project entry that serves HTTP (the web side, an IRC service node) and waits until `${url}/healthz`
 * answers. When it exits first or is not healthy in time, it is killed and the error carries its output.
 */
export async function startServing(
  entry: string,
  url: string,
  env: NodeJS.ProcessEnv,
  { nodeFlags = [], timeoutMs = 30_000, intervalMs = 50 }: StartServingOptions = {},
): Promise<RunningProcess> {
  const started = runProjectProcess(entry, env, nodeFlags);
  try {
    const outcome = await eventually(
      async () => {
        if (started.child.exitCode !== null || started.child.signalCode !== null) return 'exited';
        return (await fetch(`${url}/healthz`)).ok && 'healthy';
      },
      timeoutMs,
      intervalMs,
    );
    if (outcome === 'exited') throw new Error(`exited (${started.child.exitCode ?? started.child.signalCode})`);
  } catch (error) {
    await started.kill();
    throw new Error(`${entry} did not become healthy: ${(error as Error).message}\n${started.output()}`);
  }
  return started;
}

/** Runs a command in the project folder exactly as an operator types it (e.g. `npm run start:web`). */
export function runCommand(command: string, args: string[], env: NodeJS.ProcessEnv): RunningProcess {
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const printed = new Watched();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    printed.changed();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve(code ?? signal ?? 'unknown');
      printed.changed();
    }),
  );

  return {
    child,
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return printed.until(
        () => {
          const match = output.match(pattern);
          if (!match && (child.exitCode !== null || child.signalCode !== null)) {
            throw new Error(`process exited before ${pattern}:\n${output}`);
          }
          return match;
        },
        timeoutMs,
        () => `no ${pattern} within ${timeoutMs} ms:\n${output}`,
      );
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls a condition until it holds; for outcomes in other processes that send no event. */
export async function eventually<T>(probe: () => Promise<T> | T, timeoutMs = 5_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
