/** Runs the health supervisor machine with the real check and exposes its state to the API. */
import { type Actor, createActor, fromPromise, type InspectionEvent } from 'xstate';
import { type HealthSupervisorState, healthSupervisorMachine } from '../../../machines/health-supervisor.machine.ts';
import type { Logger } from '../../logger.ts';
import {
  type HealthCheckReport,
  type HealthCheckSummary,
  type PerformOptions,
  RECENT_CHECKS,
  summarizeReport,
} from '../../shared/health-check-report.ts';
import type { WebEventPublisher } from '../browser-events/web-event-publisher.ts';
import type { HealthCheckMetrics } from '../metrics/web-metrics.ts';

/** `idle` until started (tests, or HEALTH_CHECK_ENABLED=false), then the machine's state. */
export type HealthState = 'idle' | HealthSupervisorState;

/** Thrown by `checkNow()` when the supervisor is not running, so there is no check to run or share. */
export class HealthSupervisorNotRunning extends Error {
  override name = 'HealthSupervisorNotRunning';
}

export interface HealthSupervisorDeps {
  job: { perform(options?: PerformOptions): Promise<HealthCheckReport> };
  events: WebEventPublisher;
  /** `HEALTH_CHECK_INTERVAL_MS`. */
  intervalMs: number;
  /** `HEALTH_CHECK_FAILURE_THRESHOLD`. */
  failureThreshold: number;
  logger?: Logger;
  /** Transition logging (DEBUG_MACHINES) or a test's trace. */
  inspect?: (event: InspectionEvent) => void;
  /** Told of each check's outcome and duration and of each state change (`GET /metrics`). */
  metrics?: HealthCheckMetrics;
}

/** What the web routes need of the supervisor. */
export interface HealthSupervisorView {
  readonly state: HealthState;
  readonly lastReport: HealthCheckReport | null;
  /** The last checks, newest first (at most RECENT_CHECKS), failed ones included. */
  readonly recent: readonly HealthCheckSummary[];
  checkNow(): Promise<HealthCheckReport>;
}

interface Waiter {
  resolve(report: HealthCheckReport): void;
  reject(error: unknown): void;
}

/**
 * Runs the health supervisor machine with the real check, and is what the rest of the web side talks to:
 * `start()`, `state`, `lastReport`, `checkNow()`, `requestCheck()`, `stop()`. Publishes a `health`
 * event on each state change and each report.
 */
export class HealthSupervisor implements HealthSupervisorView {
  private readonly actor: Actor<typeof healthSupervisorMachine>;
  private waiters: Waiter[] = [];
  private started = false;
  private stopping = false;
  private recentChecks: HealthCheckSummary[] = [];

  constructor(private readonly deps: HealthSupervisorDeps) {
    const machine = healthSupervisorMachine.provide({
      actors: { check: fromPromise(({ input }: { input: PerformOptions }) => this.timedCheck(input)) },
      delays: { checkInterval: deps.intervalMs },
    });
    this.actor = createActor(machine, { input: { failureThreshold: deps.failureThreshold }, inspect: deps.inspect });
    this.actor.on('checked', ({ report }) => this.settle((waiter) => waiter.resolve(report)));
    this.actor.on('check-failed', ({ error }) => {
      deps.logger?.error({ err: error }, 'health check failed');
      this.settle((waiter) => waiter.reject(error));
    });
    let published: { state: string; report: HealthCheckReport | null } | undefined;
    this.actor.subscribe((snapshot) => {
      const state = String(snapshot.value);
      const report = snapshot.context.lastReport;
      if (published?.state === state && published.report === report) return;
      if (published?.state !== state) deps.metrics?.supervisorStateChanged(state);
      published = { state, report };
      this.publishHealth();
    });
  }

  /** Starts checking (the first check at once); does nothing when already started or stopped. */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.actor.start();
  }

  get running(): boolean {
    return this.started && !this.stopping;
  }

  get state(): HealthState {
    return this.started ? (String(this.actor.getSnapshot().value) as HealthSupervisorState) : 'idle';
  }

  get lastReport(): HealthCheckReport | null {
    return this.actor.getSnapshot().context.lastReport;
  }

  get recent(): readonly HealthCheckSummary[] {
    return this.recentChecks;
  }

  private remember(check: HealthCheckSummary): void {
    this.recentChecks = [check, ...this.recentChecks].slice(0, RECENT_CHECKS);
  }

  /**
   * Checks now and resolves with the report; during a running check, resolves with that check's report
   * instead of starting another. Rejects when the check fails outright or the supervisor is not running.
   */
  checkNow(): Promise<HealthCheckReport> {
    if (!this.running) {
      return Promise.reject(new HealthSupervisorNotRunning('the health supervisor is not running'));
    }
    const report = new Promise<HealthCheckReport>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.requestCheck();
    return report;
  }

  /** `CHECK_NOW` without waiting for the report (the IRC events stream dropped or reopened). */
  requestCheck(): void {
    if (this.running) this.actor.send({ type: 'CHECK_NOW' });
  }

  /**
   * Lets a running check finish (its changes and broadcasts complete), then stops for good. The wait is
   * bounded by `maxWaitMs` so a hung check cannot outlast the process's shutdown deadline.
   */
  async stop({ maxWaitMs = 3_000 }: { maxWaitMs?: number } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.started) return;
    if (this.state === 'checking') {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((done) => {
        timer = setTimeout(done, maxWaitMs);
        this.waiters.push({ resolve: () => done(), reject: () => done() });
      });
      clearTimeout(timer);
    }
    this.actor.send({ type: 'STOP' });
    this.actor.stop();
    this.settle((waiter) => waiter.reject(new HealthSupervisorNotRunning('the health supervisor stopped')));
  }

  /** The check, its outcome and duration told to the metrics. */
  /** One check, timed: its outcome and duration go to the metrics and to the recent checks. */
  private async timedCheck(options: PerformOptions): Promise<HealthCheckReport> {
    const { job, metrics } = this.deps;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1_000;
    try {
      const report = await job.perform(options);
      metrics?.checkFinished(report, seconds());
      this.remember(summarizeReport(report));
      return report;
    } catch (error) {
      const elapsed = seconds();
      metrics?.checkFailed(elapsed);
      this.remember({
        checkedAt: new Date().toISOString(),
        outcome: 'failed',
        durationMs: Math.round(elapsed * 1_000),
        disconnected: 0,
        markedConnected: 0,
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }

  private settle(answer: (waiter: Waiter) => void): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) answer(waiter);
  }

  private publishHealth(): void {
    const { context } = this.actor.getSnapshot();
    const report = context.lastReport;
    this.deps.events.publish('health', {
      state: this.state,
      checkedAt: report?.checkedAt ?? null,
      outcome: report?.outcome ?? null,
      consecutiveUnknown: context.consecutiveUnknown,
      error: report?.error ?? (context.lastFailure ? { name: 'Error', message: context.lastFailure } : null),
      recent: this.recentChecks,
    });
  }
}
