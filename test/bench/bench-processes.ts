/**
 * The system's sides as real processes for the benchmarks that kill one (P3, P7): start an entry and wait for
 * its `/healthz`, poll for an outcome in another process. A followed stream is test support's `openSse`,
 * whose events carry the time each was read.
 */
import { eventually, type RunningProcess, startServing } from '../support/process.ts';
import { pause } from './bench-types.ts';

/** Polls (bounded) until `probe` holds; `who` names the benchmark in the error. */
export async function until(
  who: string,
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  await eventually(probe, timeoutMs, 20).catch((error: Error) => {
    throw new Error(`${who}: ${what} did not happen within ${timeoutMs} ms (${error.message})`);
  });
}

/**
 * Runs a project entry (`src/web/main.ts`, `src/irc-service/main.ts`) and waits until `${url}/healthz` answers.
 * `BENCH_CHILD_NODE_FLAGS` (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles it, as the forked children.
 */
export async function startSide(
  who: string,
  entry: string,
  url: string,
  env: NodeJS.ProcessEnv,
): Promise<RunningProcess> {
  const flags = process.env.BENCH_CHILD_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const started = await startServing(entry, url, env, { nodeFlags: flags, timeoutMs: 20_000, intervalMs: 20 }).catch(
    (error: Error) => {
      throw new Error(`${who}: ${error.message}`);
    },
  );
  if (flags.length === 0) return started;
  return {
    ...started,
    // a profile is written on a graceful exit only: SIGTERM first, SIGKILL when it takes too long
    async kill() {
      if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGTERM');
      await Promise.race([started.exited, pause(10_000)]);
      await started.kill();
    },
  };
}
