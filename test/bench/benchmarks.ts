/** The list `npm run bench` runs. */
import type { Benchmark } from './bench-types.ts';
import { disconnectTransitionBenchmark } from './p1-disconnect-transition.ts';
import { steadyStateCheckBenchmark } from './p2-steady-state-check.ts';
import { detectionBenchmark } from './p3-detection.ts';
import { statusEndpointBenchmark } from './p4-status-endpoint.ts';
import { connectionMemoryBenchmark } from './p5-connection-memory.ts';
import { sseBroadcastBenchmark } from './p6-sse-broadcast.ts';
import { failoverBenchmark } from './p7-failover.ts';
import { clusterCheckBenchmark } from './p8-cluster-check.ts';
import { connectStormBenchmark } from './storm-connect.ts';

/** Every benchmark of `npm run bench`, in order. */
export const benchmarks: Benchmark[] = [
  disconnectTransitionBenchmark,
  steadyStateCheckBenchmark,
  detectionBenchmark,
  statusEndpointBenchmark,
  connectionMemoryBenchmark,
  sseBroadcastBenchmark,
  connectStormBenchmark,
  failoverBenchmark,
  clusterCheckBenchmark,
];
