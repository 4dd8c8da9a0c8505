/** Forks the helper processes benchmarks measure against, and talks to them over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import { PROJECT_ROOT } from '../support/process.ts';

/** The project root, where child processes run (so `tsx` and the project's modules resolve). */

/** A bench helper running in a Node process of its own, spoken to over IPC. */
export interface BenchChild<Message> {
  child: ChildProcess;
  /** Resolves with the next message that satisfies `match`; rejects on exit or after `timeoutMs`. */
  next<T extends Message>(match: (message: Message) => message is T, timeoutMs?: number): Promise<T>;
  send(message: unknown): void;
  /** Ends the child (SIGKILL if it has not exited 2 s after its IPC channel closed) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Forks a TypeScript entry of the bench through tsx, with extra Node flags (e.g. `--expose-gc`).
 * Its stderr is kept and shown when it fails.
 */
export function forkBenchChild<Message>(
  entry: string,
  args: string[] = [],
  nodeFlags: string[] = [],
  env: NodeJS.ProcessEnv = {},
): BenchChild<Message> {
  const child = fork(entry, args, {
    cwd: PROJECT_ROOT,
    // BENCH_CHILD_NODE_FLAGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the children
    execArgv: [
      '--import',
      'tsx',
      ...nodeFlags,
      ...(process.env.BENCH_CHILD_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
    ],
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const inbox: Message[] = [];
  const waiters = new Set<() => void>();
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      for (const waiter of waiters) waiter();
      resolve();
    }),
  );
  child.on('message', (message) => {
    inbox.push(message as Message);
    for (const waiter of waiters) waiter();
  });

  return {
    child,
    next(match, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const index = inbox.findIndex(match);
          if (index >= 0) {
            const [found] = inbox.splice(index, 1);
            return done(() => resolve(found as never));
          }
          if (exited) done(() => reject(new Error(`${entry} exited:\n${stderr}`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`${entry}: no expected message within ${timeoutMs} ms:\n${stderr}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    send(message) {
      child.send(message as never);
    },
    async stop() {
      // the children exit when the IPC channel closes (which also lets --cpu-prof write its profile)
      if (!exited && child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
