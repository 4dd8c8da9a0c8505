/**
 * @module
 * What one connection health check reports, shared by the web side that runs the check
 * (`ConnectionHealthCheckJob`, the health API) and the health supervisor machine that schedules it,
 * so the machine needs nothing from `src/web/`.
 */

/**
 * How the IRC service answered:
 * - `answered`: it listed its live connections;
 * - `unavailable`: nothing listens there (refused, reset, no route), so no connection is alive;
 * - `unknown`: timeout, 5xx or malformed body: it may still hold connections;
 * - `unauthorized`: it refused our token, a configuration error.
 */
export type HealthCheckOutcome = 'answered' | 'unavailable' | 'unknown' | 'unauthorized';

/** What one check saw and did; plain JSON so the API can answer it as is. */
export interface HealthCheckReport {
  checkStartedAt: string;
  checkedAt: string;
  outcome: HealthCheckOutcome;
  /** The service's `connections` when it answered, else null. */
  connections: number[] | null;
  /** Servers marked connected before and after the check. */
  kept: number[];
  disconnected: number[];
  /** Live servers that were marked disconnected (reverse drift). */
  markedConnected: number[];
  /** An `unknown` outcome that reached the failure threshold and was handled as `unavailable`. */
  treatedAsUnavailable: boolean;
  /** Another web instance held the reconciler lock: this check changed nothing. */
  reconciledElsewhere: boolean;
  /** Wanted (autoconnect) servers that were not live: asked for again, paced per host. */
  restoring: number[];
  /** Live connections of servers that are not wanted (autoconnect false) or not known: closed. */
  closing: number[];
  /** Wanted channels (ids) not joined on live servers: joined. */
  joining: number[];
  /** Channels (ids) the operator parted: parted, then deleted. */
  parting: number[];
  /** What went wrong (the service's failure, or the database's), else null. */
  error: { name: string; message: string } | null;
}

export interface PerformOptions {
  /** The node to check (its key, `node:<key>` in the cluster supervisor); every node when left out. */
  node?: string;
  /** Set by the supervisor once `HEALTH_CHECK_FAILURE_THRESHOLD` unknown results come in a row. */
  treatUnknownAsUnavailable?: boolean;
}

/** One check as the dashboard's health panel lists it. */
export interface HealthCheckSummary {
  checkedAt: string;
  /** How the IRC service answered, or `failed` when the check itself failed (the database, say). */
  outcome: HealthCheckOutcome | 'failed';
  durationMs: number;
  /** How many servers the check disconnected, and how many it marked connected (reverse drift). */
  disconnected: number;
  markedConnected: number;
  /** Why the check failed, or what went wrong talking to the IRC service; else null. */
  error: string | null;
}

/** How many checks `GET /api/health-check` and the `health` event list under `recent`. */
export const RECENT_CHECKS = 20;

export function summarizeReport(report: HealthCheckReport): HealthCheckSummary {
  return {
    checkedAt: report.checkedAt,
    outcome: report.outcome,
    durationMs: Date.parse(report.checkedAt) - Date.parse(report.checkStartedAt),
    disconnected: report.disconnected.length,
    markedConnected: report.markedConnected.length,
    error: report.error?.message ?? null,
  };
}

/**
 * The outcomes from worst to best: a check of several nodes reports the worst of theirs, `unknown` before
 * `unavailable` so that a count of unknown checks in a row keeps growing while one node hangs and another is down.
 */
const OUTCOME_SEVERITY: readonly HealthCheckOutcome[] = ['unauthorized', 'unknown', 'unavailable', 'answered'];

/**
 * One report for a check of several nodes (each node's own report): the worst outcome and its error, the lists
 * merged (ascending, once each), `connections` only when every node answered, from the first start to the last
 * end. A single report is answered as it is, so a one-node cluster reports exactly what its node's check did.
 */
export function combineReports(reports: readonly HealthCheckReport[]): HealthCheckReport {
  const [first] = reports;
  if (!first) throw new Error('combineReports needs at least one report');
  if (reports.length === 1) return first;
  const worst =
    OUTCOME_SEVERITY.map((outcome) => reports.find((report) => report.outcome === outcome)).find(Boolean) ?? first;
  const merged = (pick: (report: HealthCheckReport) => readonly number[] | null) =>
    [...new Set(reports.flatMap((report) => pick(report) ?? []))].sort((a, b) => a - b);
  const times = (pick: (report: HealthCheckReport) => string) => reports.map(pick).sort();
  return {
    checkStartedAt: times((report) => report.checkStartedAt)[0]!,
    checkedAt: times((report) => report.checkedAt).at(-1)!,
    outcome: worst.outcome,
    connections: worst.outcome === 'answered' ? merged((report) => report.connections) : null,
    kept: merged((report) => report.kept),
    disconnected: merged((report) => report.disconnected),
    markedConnected: merged((report) => report.markedConnected),
    treatedAsUnavailable: reports.some((report) => report.treatedAsUnavailable),
    reconciledElsewhere: reports.some((report) => report.reconciledElsewhere),
    restoring: merged((report) => report.restoring),
    closing: merged((report) => report.closing),
    joining: merged((report) => report.joining),
    parting: merged((report) => report.parting),
    error: worst.error ?? reports.find((report) => report.error !== null)?.error ?? null,
  };
}
