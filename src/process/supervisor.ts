/**
 * @module
 * A one_for_one supervisor, as Erlang/OTP has: each child is started in turn, and one that exits
 * without being asked to is restarted alone, after a capped exponential backoff. More restarts than
 * the policy allows within its window means something is wrong that restarting will not fix: the
 * supervisor gives up and says so in one line.
 */
import { StartError } from './start-error.ts';

/** The part of a ChildProcess the supervisor uses (a fake in tests). */
export interface SupervisedProcess {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

export interface ChildSpec<P extends SupervisedProcess = SupervisedProcess> {
  /** As the operator reads it: "IRC service", "web side". */
  name: string;
  start(): P;
  /** Resolves true once the child serves, false when it exited first or did not serve in time. */
  ready(child: P): Promise<boolean>;
}

export interface RestartPolicy {
  /** Wait before the first restart; each further restart within the window doubles it. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** More restarts than this within windowMs: give up (OTP's intensity and period). */
  maxRestarts: number;
  windowMs: number;
  /** SIGTERM, then SIGKILL after this long. */
  stopTimeoutMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 250,
  maxDelayMs: 5_000,
  maxRestarts: 5,
  windowMs: 60_000,
  stopTimeoutMs: 8_000,
};

/** A child that did not come up at first start: its own output already said why. */
export class ChildStartError extends StartError {
  override name = 'ChildStartError';
}

export interface SupervisorOptions {
  policy?: Partial<RestartPolicy>;
  /** One line for the operator. */
  log: (line: string) => void;
  /** Called once with the line that explains why; the caller stops the supervisor and exits 1. */
  onGiveUp: (line: string) => void;
  now?: () => number;
}

interface Supervised {
  spec: ChildSpec;
  process: SupervisedProcess;
  restarts: number[];
  restartTimer?: ReturnType<typeof setTimeout>;
}

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ?? `code ${code}`;
}

function hasExited(child: SupervisedProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export class OneForOneSupervisor {
  readonly #policy: RestartPolicy;
  readonly #options: SupervisorOptions;
  readonly #now: () => number;
  readonly #children: Supervised[] = [];
  #stopping = false;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#policy = { ...DEFAULT_RESTART_POLICY, ...options.policy };
    this.#now = options.now ?? Date.now;
  }

  /** The running process of a child, by name (for tests and messages). */
  pidOf(name: string): number | undefined {
    return this.#children.find((child) => child.spec.name === name)?.process.pid;
  }

  /**
   * Starts a child and resolves once it serves; rejects with ChildStartError when it exits first.
   * Children are stopped in the reverse order of these calls.
   */
  async startChild<P extends SupervisedProcess>(spec: ChildSpec<P>): Promise<void> {
    if (this.#stopping) throw new ChildStartError(`not starting the ${spec.name}: stopping`);
    const first = spec.start();
    const supervised: Supervised = { spec: spec as ChildSpec, process: first, restarts: [] };
    this.#children.push(supervised);
    let exitedAtStart: string | undefined;
    first.once('exit', (code, signal) => {
      exitedAtStart = describeExit(code, signal);
    });
    if (!(await spec.ready(first))) {
      if (this.#stopping) return;
      if (!hasExited(supervised.process)) supervised.process.kill('SIGKILL');
      throw new ChildStartError(
        exitedAtStart
          ? `the ${spec.name} exited during start (${exitedAtStart})`
          : `the ${spec.name} did not start in time`,
      );
    }
    if (this.#stopping) return;
    if (hasExited(supervised.process)) {
      throw new ChildStartError(`the ${spec.name} exited during start (${exitedAtStart})`);
    }
    this.#watch(supervised);
  }

  /** Stops every child, the last started first, each within the stop timeout. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const child of [...this.#children].reverse()) {
      clearTimeout(child.restartTimer);
      await this.#stopProcess(child.process);
    }
  }

  #watch(supervised: Supervised): void {
    const current = supervised.process;
    current.once('exit', (code, signal) => {
      if (this.#stopping || supervised.process !== current) return;
      this.#restart(supervised, describeExit(code, signal));
    });
  }

  #restart(supervised: Supervised, how: string): void {
    const { name } = supervised.spec;
    const now = this.#now();
    supervised.restarts = supervised.restarts.filter((at) => now - at < this.#policy.windowMs);
    if (supervised.restarts.length >= this.#policy.maxRestarts) {
      this.#stopping = true;
      this.#options.onGiveUp(
        `the ${name} exited (${how}) after ${supervised.restarts.length} restarts within ${this.#policy.windowMs / 1000} s; giving up`,
      );
      return;
    }
    const delay = Math.min(this.#policy.maxDelayMs, this.#policy.initialDelayMs * 2 ** supervised.restarts.length);
    supervised.restarts.push(now);
    this.#options.log(`the ${name} exited (${how}); restarting it in ${delay} ms`);
    supervised.restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      const startedAt = this.#now();
      const next = supervised.spec.start();
      supervised.process = next;
      this.#watch(supervised);
      void supervised.spec.ready(next).then((ready) => {
        if (this.#stopping || supervised.process !== next) return;
        if (ready) {
          this.#options.log(
            `the ${name} is serving again (pid ${next.pid}, ${this.#now() - startedAt} ms after restart)`,
          );
        } else if (!hasExited(next)) {
          next.kill('SIGKILL'); // hung at start: its exit counts as one more restart
        }
      });
    }, delay);
  }

  #stopProcess(child: SupervisedProcess): Promise<void> {
    if (hasExited(child)) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), this.#policy.stopTimeoutMs);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
