/** Builds health check reports as a fake check returns them. */
import type { HealthCheckOutcome, HealthCheckReport } from '../../src/shared/health-check-report.ts';

const ERROR_NAMES: Record<HealthCheckOutcome, string | null> = {
  answered: null,
  unavailable: 'ServiceUnavailable',
  unknown: 'ServiceTimeout',
  unauthorized: 'Unauthorized',
};

/** A health check report with the given outcome, as a fake check answers it. */
export function healthReport(
  outcome: HealthCheckOutcome,
  overrides: Partial<HealthCheckReport> = {},
): HealthCheckReport {
  const name = ERROR_NAMES[outcome];
  return {
    checkStartedAt: new Date().toISOString(),
    checkedAt: new Date().toISOString(),
    outcome,
    connections: outcome === 'answered' ? [] : null,
    kept: [],
    disconnected: [],
    markedConnected: [],
    treatedAsUnavailable: false,
    reconciledElsewhere: false,
    restoring: [],
    closing: [],
    joining: [],
    parting: [],
    error: name ? { name, message: name } : null,
    ...overrides,
  };
}
