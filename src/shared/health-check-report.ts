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
