/**
 * The system's sides as real processes for the benchmarks that kill one (P3, P7): start an entry and wait for
 * its `/healthz`, poll for an outcome in another process, follow an SSE stream with the time each message
 * was read.
 */
import { performance } from 'node:perf_hooks';
import { readSse } from '../../src/shared/sse/sse-reader.ts';
import { type RunningProcess, runCommand } from '../support/process.ts';
import { pause } from './bench-types.ts';

/** One message of a followed stream, with the time (performance.now()) it was read. */
export interface FollowedEvent {
  event: string;
  data: Record<string, unknown>;
  at: number;
}

export interface FollowedStream {
  events: FollowedEvent[];
  close(): void;
}

/** Polls (bounded) until `probe` holds; `who` names the benchmark in the error. */
export async function until(
  who: string,
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${who}: ${what} did not happen within ${timeoutMs} ms`);
    await pause(20);
  }
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
  const started = runCommand(process.execPath, [...flags, '--import', 'tsx', entry], env);
  try {
    await until(who, `${entry} healthy`, async () => {
      if (started.child.exitCode !== null) throw new Error(`${who}: ${entry} exited:\n${started.output()}`);
      return fetch(`${url}/healthz`).then(
        (response) => response.ok,
        () => false,
      );
    });
  } catch (error) {
    await started.kill();
    throw error;
  }
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

/** Follows an SSE stream and keeps every message with the time it was read. */
export async function followSse(url: string, headers: Record<string, string> = {}): Promise<FollowedStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}`);
  const events: FollowedEvent[] = [];
  void (async () => {
    try {
      for await (const message of readSse(response.body!)) {
        let data: Record<string, unknown> = {};
        try {
          data = JSON.parse(message.data) as Record<string, unknown>;
        } catch {
          // not JSON: kept without data
        }
        events.push({ event: message.event, data, at: performance.now() });
      }
    } catch {
      // closed
    }
  })();
  return { events, close: () => abort.abort() };
}
