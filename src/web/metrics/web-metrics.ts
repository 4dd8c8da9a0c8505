/** The web side's Prometheus metrics: health checks, the supervisor's state, IRC events applied, browsers on /events. */
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import { clusterSupervisorMachine } from '../../../machines/cluster-supervisor.machine.ts';
import type { HealthCheckOutcome, HealthCheckReport } from '../../shared/health-check-report.ts';
import { IRC_EVENT_TYPES, type IrcEventType } from '../../shared/irc-events.ts';
import { createMetricsRegistry, METRIC_PREFIX, sseClientsGauge } from '../../shared/prometheus.ts';

/** A check's outcome as a label: the report's outcome, or `failed` when the check threw (the database failed). */
export type HealthCheckOutcomeLabel = HealthCheckOutcome | 'failed';

// a Record, so a new report outcome fails to compile until it is listed here (and in the README)
const OUTCOMES: Record<HealthCheckOutcomeLabel, true> = {
  answered: true,
  unavailable: true,
  unknown: true,
  unauthorized: true,
  failed: true,
};
export const HEALTH_CHECK_OUTCOMES = Object.keys(OUTCOMES) as HealthCheckOutcomeLabel[];

/** `idle` (not started) and every state of the cluster supervisor machine, read from its definition. */
export const SUPERVISOR_STATES: readonly string[] = ['idle', ...Object.keys(clusterSupervisorMachine.root.states)];

/** What the health supervisor reports. */
export interface HealthCheckMetrics {
  checkFinished(report: HealthCheckReport, seconds: number): void;
  checkFailed(seconds: number): void;
  supervisorStateChanged(state: string): void;
}

/** What the IRC event consumer reports. */
export interface IrcEventMetrics {
  eventApplied(type: IrcEventType): void;
}

export interface WebMetricsSources {
  /** Browsers on `/events`, read at scrape time. */
  sseClients(): number;
}

/**
 * The web side's metrics, in a registry of their own. The health supervisor and the IRC event consumer
 * report to it as things happen; the browsers on `/events` are counted at scrape time. Every label
 * value is known in advance and exported from the start at 0, so a rate never starts from nothing.
 */
export class WebMetrics implements HealthCheckMetrics, IrcEventMetrics {
  readonly registry: Registry = createMetricsRegistry();
  private readonly checks: Counter<'outcome'>;
  private readonly checkDuration: Histogram;
  private readonly disconnected: Counter;
  private readonly supervisorState: Gauge<'state'>;
  private readonly eventsApplied: Counter<'type'>;

  constructor(sources: WebMetricsSources) {
    const registers = [this.registry];
    this.checks = new Counter({
      name: `${METRIC_PREFIX}health_checks_total`,
      help: 'Connection health checks run, by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of HEALTH_CHECK_OUTCOMES) this.checks.inc({ outcome }, 0);
    this.checkDuration = new Histogram({
      name: `${METRIC_PREFIX}health_check_duration_seconds`,
      help: 'How long one connection health check took, the status request and the repair included.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.disconnected = new Counter({
      name: `${METRIC_PREFIX}health_check_disconnected_total`,
      help: 'Servers the health checks found dead and disconnected in the database.',
      registers,
    });
    this.supervisorState = new Gauge({
      name: `${METRIC_PREFIX}health_supervisor_state`,
      help: 'The health supervisor state: 1 for the current one, 0 for the others.',
      labelNames: ['state'],
      registers,
    });
    this.supervisorStateChanged('idle');
    this.eventsApplied = new Counter({
      name: `${METRIC_PREFIX}irc_events_applied_total`,
      help: 'Events of the IRC service applied to the database, by type.',
      labelNames: ['type'],
      registers,
    });
    for (const type of IRC_EVENT_TYPES) this.eventsApplied.inc({ type }, 0);
    sseClientsGauge(this.registry, () => sources.sseClients());
  }

  checkFinished(report: HealthCheckReport, seconds: number): void {
    this.checks.inc({ outcome: report.outcome });
    this.checkDuration.observe(seconds);
    this.disconnected.inc(report.disconnected.length);
  }

  checkFailed(seconds: number): void {
    this.checks.inc({ outcome: 'failed' });
    this.checkDuration.observe(seconds);
  }

  supervisorStateChanged(state: string): void {
    for (const known of SUPERVISOR_STATES) this.supervisorState.set({ state: known }, known === state ? 1 : 0);
  }

  eventApplied(type: IrcEventType): void {
    this.eventsApplied.inc({ type });
  }
}
