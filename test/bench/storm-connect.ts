/**
 * Connect storm: 1,000 connections to one ngircd from a cold start, through the registry with its
 * per-host throttle (IRC_CONNECTS_PER_HOST's default, 8 in flight): the time until all are registered,
 * and how many were lost. Floor: bare irc-framework clients with the same in-flight limit. Goal: at most
 * 5 s, none lost.
 */
import { type BenchFigure, type Benchmark, costFigure, median } from './bench-types.ts';
import { runIrcClients } from './irc-clients-run.ts';

const SIZES = {
  full: { count: 1_000, limit: 8, deadlineMs: 20_000, passes: 2 },
  tiny: { count: 20, limit: 8, deadlineMs: 10_000, passes: 1 },
};

const GOAL_MS = 5_000;

export const connectStormBenchmark: Benchmark = {
  id: 'STORM',
  title: 'connect storm',
  needs: ['ngircd'],
  async run({ size, progress }) {
    const sizes = SIZES[size];
    const project: number[] = [];
    const bare: number[] = [];
    let lost = 0;
    let bareLost = 0;
    for (let pass = 0; pass < sizes.passes; pass += 1) {
      const order = pass % 2 === 0 ? (['project', 'bare'] as const) : (['bare', 'project'] as const);
      for (const mode of order) {
        progress(`STORM ${mode}: ${sizes.count} connections (pass ${pass + 1}/${sizes.passes})`);
        const run = await runIrcClients(mode, sizes);
        if (mode === 'project') {
          project.push(run.elapsedMs);
          lost += run.lost;
        } else {
          bare.push(run.elapsedMs);
          bareLost += run.lost;
        }
      }
    }
    const figure: BenchFigure = costFigure(
      'STORM',
      `connect storm, ${sizes.count} to one ngircd, ${sizes.limit} in flight`,
      median(project),
      median(bare),
      'ms',
      Number.POSITIVE_INFINITY,
      `lost: ${lost} (floor: ${bareLost}) over ${sizes.passes} run(s)`,
    );
    figure.goal = `≤ ${GOAL_MS} ms, none lost`;
    figure.ok = figure.project <= GOAL_MS && lost === 0;
    return [figure];
  },
};
