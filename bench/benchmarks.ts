import type { Benchmark } from './bench-types.ts';
import { disconnectTransitionBenchmark } from './p1-disconnect-transition.ts';

/** Every benchmark of `npm run bench`, in order. */
export const benchmarks: Benchmark[] = [disconnectTransitionBenchmark];
