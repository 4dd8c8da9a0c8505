import { describe, expect, inject, it } from 'vitest';
import { lacks } from '../support/requirements.ts';
import type { BenchFigure, Benchmark } from './bench-types.ts';
import { benchmarks } from './benchmarks.ts';

/**
 * Every benchmark of `npm run bench`, once at its tiny size, so none of them rots: each must run to the
 * end and answer its figures, project and floor measured. Neither the goals nor any time is asserted
 * here; `npm run bench` at full size is where they are judged.
 */
async function runTiny(benchmark: Benchmark): Promise<BenchFigure[]> {
  return benchmark.run({ size: 'tiny', progress: () => {}, adminUrl: inject('testAdminUrl') });
}

function expectMeasured(benchmark: Benchmark, figures: BenchFigure[]): void {
  expect(figures.length).toBeGreaterThan(0);
  for (const figure of figures) {
    expect(figure.id.startsWith(benchmark.id)).toBe(true);
    for (const value of [figure.project, figure.floor, figure.ratio]) {
      expect(Number.isFinite(value) && value > 0, `${figure.id}: ${value}`).toBe(true);
    }
    expect(figure.goal).not.toBe('');
  }
}

const withPostgresOnly = benchmarks.filter((benchmark) => !benchmark.needs?.includes('ngircd'));
const withNgircd = benchmarks.filter((benchmark) => benchmark.needs?.includes('ngircd'));

describe('benchmarks at the tiny size', () => {
  it.each(withPostgresOnly.map((benchmark) => [benchmark.id, benchmark] as const))(
    '%s answers its figures',
    async (_id, benchmark) => {
      expectMeasured(benchmark, await runTiny(benchmark));
    },
    60_000,
  );
});

describe.skipIf(lacks('ngircd'))('benchmarks at the tiny size, against ngircd', () => {
  it.each(withNgircd.map((benchmark) => [benchmark.id, benchmark] as const))(
    '%s answers its figures',
    async (_id, benchmark) => {
      expectMeasured(benchmark, await runTiny(benchmark));
    },
    60_000,
  );
});
