/**
 * P5: memory per registered connection at 1,000 connections to one ngircd: the project's registry
 * (connection machine actor + irc-framework client actor + throttle + event stream) against bare
 * irc-framework clients. Each side runs in a fresh process of its own; RSS and heap are read after GC
 * and taken over that process's baseline before its first connect.
 */
import { type Benchmark, costFigure } from './bench-types.ts';
import { runIrcClients } from './irc-clients-run.ts';

const SIZES = {
  full: { count: 1_000, limit: 8, deadlineMs: 30_000 },
  tiny: { count: 20, limit: 8, deadlineMs: 10_000 },
};

const KIB = 1_024;

export const connectionMemoryBenchmark: Benchmark = {
  id: 'P5',
  title: 'memory per registered connection',
  needs: ['ngircd'],
  async run({ size, progress }) {
    const sizes = SIZES[size];
    progress(`P5 bare irc-framework: ${sizes.count} connections`);
    const bare = await runIrcClients('bare', sizes);
    progress(`P5 project registry: ${sizes.count} connections`);
    const project = await runIrcClients('project', sizes);
    for (const [name, run] of [
      ['bare', bare],
      ['project', project],
    ] as const) {
      if (run.registered !== sizes.count) throw new Error(`P5 ${name}: ${run.registered} of ${sizes.count} registered`);
    }
    return [
      costFigure(
        'P5.rss',
        `RSS per registered connection, ${sizes.count} to one ngircd`,
        project.rssPerConnection / KIB,
        bare.rssPerConnection / KIB,
        'KiB',
        1.25,
        'after GC, over each process’s own baseline',
      ),
      costFigure(
        'P5.heap',
        `heap per registered connection, ${sizes.count} to one ngircd`,
        project.heapPerConnection / KIB,
        bare.heapPerConnection / KIB,
        'KiB',
        1.25,
        'heapUsed after GC',
      ),
    ];
  },
};
