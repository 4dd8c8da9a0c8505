/** The frame of every process entry point: ordered shutdown on signals and errors, one line for bad configuration. */
import { StartError } from './start-error.ts';

/** Registers a step of the shutdown; steps run in reverse order of registration. */
export type OnShutdown = (step: () => Promise<void> | void) => void;

export interface RunMainOptions {
  /** Longest wait for a graceful shutdown before the process exits anyway. */
  shutdownTimeoutMs?: number;
}

/**
 * Runs a process entry point. What `start` registers with `onShutdown` is undone in reverse order on
 * SIGINT/SIGTERM (exit 0), on an uncaught error (exit 1), and when `start` itself fails (exit 1, with one
 * clear line for bad configuration), always within the shutdown timeout.
 */
export async function runMain(
  name: string,
  /** Resolves 'finished' for a one-shot command (shut down and exit 0), or nothing for a server. */
  start: (onShutdown: OnShutdown) => Promise<unknown>,
  options: RunMainOptions = {},
): Promise<void> {
  const timeoutMs = options.shutdownTimeoutMs ?? 5_000;
  const steps: Array<() => Promise<void> | void> = [];
  let exiting = false;

  const exit = async (code: number) => {
    if (exiting) return;
    exiting = true;
    const deadline = setTimeout(() => {
      console.error(`${name}: shutdown took longer than ${timeoutMs} ms; exiting`);
      process.exit(code || 1);
    }, timeoutMs);
    deadline.unref();
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`${name}: error during shutdown: ${(error as Error).message}`);
        code ||= 1;
      }
    }
    process.exit(code || Number(process.exitCode ?? 0));
  };

  // Started by `npm start` with an IPC channel: when that parent dies, even by SIGKILL, so does this side.
  if (process.send) process.once('disconnect', () => void exit(1));
  // `on`, not `once`: a terminal's Ctrl-C reaches this process twice under `npm run` (from the terminal
  // and forwarded by npm), and a second signal without a listener would kill it mid-shutdown
  process.on('SIGINT', () => void exit(0));
  process.on('SIGTERM', () => void exit(0));
  process.on('uncaughtException', (error) => {
    console.error(`${name}: uncaught error:`, error);
    void exit(1);
  });
  process.on('unhandledRejection', (error) => {
    console.error(`${name}: unhandled rejection:`, error);
    void exit(1);
  });

  try {
    const result = await start((step) => steps.push(step));
    if (result === 'finished') await exit(0);
  } catch (error) {
    // a StartError's message is already the one line an operator needs
    if (error instanceof StartError) console.error(`${name}: ${error.message}`);
    else console.error(`${name}: failed to start:`, error);
    await exit(1);
  }
}
