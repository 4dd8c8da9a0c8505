/** One figure of the benchmark suite, measured beside its floor in the same run. */
export interface BenchFigure {
  id: string;
  figure: string;
  /** The project's measurement. */
  project: number;
  /** The floor (raw SQL, plain node:http, bare clients...) measured in the same run. */
  floor: number;
  unit: string;
  /** `project / floor` for costs, `project / floor` for throughputs too (then the goal is a minimum). */
  ratio: number;
  /** e.g. `≤ 1.3×` or `≥ 0.8×`. */
  goal: string;
  /** Whether the goal holds in this run. */
  ok: boolean;
  /** Anything a reader needs to interpret the row. */
  note?: string;
}

export interface BenchContext {
  /** Named sizes; each benchmark reads its own. */
  size: 'tiny' | 'full';
  /** Reports progress of a long step on one line. */
  progress(message: string): void;
  /** PostgreSQL server URL for a benchmark database of its own (created and dropped by the benchmark). */
  adminUrl: string;
}

export interface Benchmark {
  id: string;
  title: string;
  /** What the benchmark needs beyond PostgreSQL. */
  needs?: Array<'ngircd'>;
  run(context: BenchContext): Promise<BenchFigure[]>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A cost figure (lower is better): ok when project ≤ goal × floor. */
export function costFigure(
  id: string,
  figure: string,
  project: number,
  floor: number,
  unit: string,
  maxRatio: number,
  note?: string,
): BenchFigure {
  const ratio = project / floor;
  return { id, figure, project, floor, unit, ratio, goal: `≤ ${maxRatio}×`, ok: ratio <= maxRatio, note };
}

/** A figure for reference beside the goals: a ratio to its floor, with no goal to judge. */
export function referenceFigure(figure: BenchFigure, note: string): BenchFigure {
  return { ...figure, goal: 'none', ok: true, note };
}

/** A throughput figure (higher is better): ok when project ≥ goal × floor. */
export function throughputFigure(
  id: string,
  figure: string,
  project: number,
  floor: number,
  unit: string,
  minRatio: number,
  note?: string,
): BenchFigure {
  const ratio = project / floor;
  return { id, figure, project, floor, unit, ratio, goal: `≥ ${minRatio}×`, ok: ratio >= minRatio, note };
}

/** A cost figure with an absolute goal (e.g. ≤ 25 ms): ok when project ≤ limit; the ratio is shown for reference. */
export function limitFigure(
  id: string,
  figure: string,
  project: number,
  floor: number,
  unit: string,
  limit: number,
  note?: string,
): BenchFigure {
  return {
    id,
    figure,
    project,
    floor,
    unit,
    ratio: project / floor,
    goal: `≤ ${limit} ${unit}`,
    ok: project <= limit,
    note,
  };
}

/** Resolves after `ms`, for pacing a benchmark step (never to wait for an outcome). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
