/** Runs test/bench/irc-clients-child.ts against a fresh ngircd and collects what it reports. */
import { startNgircd } from '../support/ngircd.ts';
import { forkBenchChild } from './bench-child.ts';

export type ClientsMessage =
  | { type: 'baseline'; rss: number; heap: number }
  | { type: 'registered'; registered: number; lost: number; elapsedMs: number }
  | { type: 'memory'; rss: number; heap: number; registered: number };

export interface ClientsRun {
  registered: number;
  lost: number;
  elapsedMs: number;
  /** Bytes per registered connection, after GC, over the process's own baseline. */
  rssPerConnection: number;
  heapPerConnection: number;
}

let runs = 0;

/**
 * `count` IRC connections from a cold process (test/bench/irc-clients-child.ts) to a fresh ngircd of its own,
 * through the project's registry or as bare irc-framework clients, at most `limit` connects in flight.
 */
export async function runIrcClients(
  mode: 'project' | 'bare',
  options: { count: number; limit: number; deadlineMs: number },
): Promise<ClientsRun> {
  const ircd = await startNgircd();
  runs += 1;
  const child = forkBenchChild<ClientsMessage>(
    'test/bench/irc-clients-child.ts',
    [
      mode,
      ircd.host,
      String(ircd.port),
      String(options.count),
      String(options.limit),
      `bench${runs}x`,
      String(options.deadlineMs),
    ],
    ['--expose-gc'],
  );
  try {
    const baseline = await child.next((m): m is Extract<ClientsMessage, { type: 'baseline' }> => m.type === 'baseline');
    const outcome = await child.next(
      (m): m is Extract<ClientsMessage, { type: 'registered' }> => m.type === 'registered',
      options.deadlineMs + 30_000,
    );
    const memory = await child.next((m): m is Extract<ClientsMessage, { type: 'memory' }> => m.type === 'memory');
    const per = (bytes: number) => (outcome.registered > 0 ? bytes / outcome.registered : Number.NaN);
    return {
      registered: outcome.registered,
      lost: outcome.lost,
      elapsedMs: outcome.elapsedMs,
      rssPerConnection: per(memory.rss - baseline.rss),
      heapPerConnection: per(memory.heap - baseline.heap),
    };
  } finally {
    await child.stop();
    await ircd.dispose();
  }
}
