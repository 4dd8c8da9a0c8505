/**
 * Runs the cluster supervisor machine (one health supervisor per IRC service node, as child actors) with the
 * real check of each node, and exposes its state to the API.
 */
import { type Actor, type ActorRefFrom, createActor, fromPromise, type InspectionEvent } from 'xstate';
import {
  type ClusterSupervisorState,
  clusterSupervisorMachine,
  nodeSupervisorId,
} from '../../../machines/cluster-supervisor.machine.ts';
import { type HealthSupervisorState, healthSupervisorMachine } from '../../../machines/health-supervisor.machine.ts';
import type { Logger } from '../../logger.ts';
import { errorMessage } from '../../shared/error-text.ts';
import {
  combineReports,
  type HealthCheckReport,
  type HealthCheckSummary,
  type PerformOptions,
  RECENT_CHECKS,
  summarizeReport,
} from '../../shared/health-check-report.ts';
import type { WebEventPublisher } from '../browser-events/web-event-publisher.ts';
import type { HealthCheckMetrics } from '../metrics/web-metrics.ts';

/** `idle` until started (tests, or HEALTH_CHECK_ENABLED=false), then the machine's state. */
export type HealthState = 'idle' | ClusterSupervisorState;

/** Thrown by `checkNow()` when the supervisor is not running, so there is no check to run or share. */
export class HealthSupervisorNotRunning extends Error {
  override name = 'HealthSupervisorNotRunning';
}

/**
 * A node the supervisor checks, as the check job lists it: `key` names its supervisor (`node:<key>`) and is what
 * the job is asked to check; `name` is its `IRC_NODE_ID` once known.
 */
export interface SupervisedNode {
  readonly key: string;
  readonly name: string | null;
}

/** The key of the one node of a job that does not list its nodes (tests' fakes). */
const LONE_NODE = 'irc-service';

export interface HealthSupervisorDeps {
  /** Checks one node (`options.node`, a key of `nodes`); `nodes` lists them (one node when left out). */
  job: { perform(options?: PerformOptions): Promise<HealthCheckReport>; readonly nodes?: readonly SupervisedNode[] };
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

/** One node's supervisor as `GET /api/health-check` and the `health` event list it under `nodes`. */
export interface NodeHealthView {
  /** Its `IRC_NODE_ID`; null for the one node of `IRC_SERVICE_URL` until its first answer names it. */
  name: string | null;
  state: HealthState;
  /** Unknown results in a row (from `HEALTH_CHECK_FAILURE_THRESHOLD` on they count as unavailable). */
  consecutiveUnknown: number;
  /** Its last check, failed ones included; null before the first. */
  lastCheck: HealthCheckSummary | null;
}

/** What the web routes need of the supervisor. */
export interface HealthSupervisorView {
  readonly state: HealthState;
  /** Every node's last report, combined (with one node: that node's last report). */
  readonly lastReport: HealthCheckReport | null;
  /** The last checks, newest first (at most RECENT_CHECKS), failed ones included. */
  readonly recent: readonly HealthCheckSummary[];
  readonly nodes: readonly NodeHealthView[];
  checkNow(): Promise<HealthCheckReport>;
}

/** One `checkNow()`: the next report (or failure) of every node, answered combined to each of its waiters. */
interface CheckRound {
  waiting: Set<string>;
  reports: Map<string, HealthCheckReport>;
  failure: { error: unknown } | null;
  waiters: Array<{ resolve(report: HealthCheckReport): void; reject(error: unknown): void }>;
}

type NodeSupervisorRef = ActorRefFrom<typeof healthSupervisorMachine>;

/**
 * Runs the cluster supervisor machine with the real check of each node, and is what the rest of the web side
 * talks to: `start()`, `state`, `lastReport`, `nodes`, `checkNow()`, `requestCheck(node?)`, `stop()`. Publishes a
 * `health` event on each state change and each report.
 */
export class HealthSupervisor implements HealthSupervisorView {
  private readonly actor: Actor<typeof clusterSupervisorMachine>;
  private readonly keys: readonly string[];
  private rounds: CheckRound[] = [];
  private started = false;
  private stopping = false;
  private recentChecks: HealthCheckSummary[] = [];
  private readonly lastChecks = new Map<string, HealthCheckSummary>();
  private combined: { parts: readonly HealthCheckReport[]; report: HealthCheckReport } | undefined;

  constructor(private readonly deps: HealthSupervisorDeps) {
    this.keys = deps.job.nodes?.map((node) => node.key) ?? [LONE_NODE];
    const nodeSupervisor = healthSupervisorMachine.provide({
      actors: { check: fromPromise(({ input }: { input: PerformOptions }) => this.timedCheck(input)) },
      delays: { checkInterval: deps.intervalMs },
    });
    const machine = clusterSupervisorMachine.provide({ actors: { nodeSupervisor } });
    this.actor = createActor(machine, {
      input: { nodes: this.keys, failureThreshold: deps.failureThreshold },
      inspect: deps.inspect,
    });
    let published: { state: string; report: HealthCheckReport | null } | undefined;
    this.actor.subscribe((snapshot) => {
      const state = String(snapshot.value);
      const report = this.lastReport;
      if (published?.state === state && published.report === report) return;
      if (published?.state !== state) deps.metrics?.supervisorStateChanged(state);
      published = { state, report };
      this.publishHealth();
    });
  }

  /** Starts checking (the first check of every node at once); does nothing when already started or stopped. */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.actor.start();
    for (const key of this.keys) {
      const child = this.child(key);
      child?.on('checked', ({ report }) => this.nodeSettled(key, { report }));
      child?.on('check-failed', ({ error }) => {
        this.deps.logger?.error({ err: error, node: key }, 'health check failed');
        this.nodeSettled(key, { error });
      });
    }
  }

  get running(): boolean {
    return this.started && !this.stopping;
  }

  get state(): HealthState {
    return this.started ? (String(this.actor.getSnapshot().value) as ClusterSupervisorState) : 'idle';
  }

  get lastReport(): HealthCheckReport | null {
    const parts = this.keys.flatMap((key) => {
      const report = this.child(key)?.getSnapshot().context.lastReport;
      return report ? [report] : [];
    });
    if (parts.length === 0) return null;
    // the same reports give the same object, so an unchanged picture is not published twice
    if (this.combined?.parts.length !== parts.length || this.combined.parts.some((part, i) => part !== parts[i])) {
      this.combined = { parts, report: combineReports(parts) };
    }
    return this.combined.report;
  }

  get recent(): readonly HealthCheckSummary[] {
    return this.recentChecks;
  }

  get nodes(): readonly NodeHealthView[] {
    const names = new Map((this.deps.job.nodes ?? []).map((node) => [node.key, node.name]));
    return this.keys.map((key) => {
      const snapshot = this.started ? this.child(key)?.getSnapshot() : undefined;
      return {
        name: names.get(key) ?? null,
        state: snapshot ? (String(snapshot.value) as HealthSupervisorState) : this.started ? 'stopped' : 'idle',
        consecutiveUnknown: snapshot?.context.consecutiveUnknown ?? 0,
        lastCheck: this.lastChecks.get(key) ?? null,
      };
    });
  }

  /**
   * Checks every node now and resolves with their reports combined; a node whose check is running answers with
   * that check's report instead of starting another. Rejects when a node's check fails outright or the
   * supervisor is not running.
   */
  checkNow(): Promise<HealthCheckReport> {
    if (!this.running) {
      return Promise.reject(new HealthSupervisorNotRunning('the health supervisor is not running'));
    }
    // callers that come before any node answered share one round, and so one combined report
    let round = this.rounds.at(-1);
    if (!round || round.reports.size > 0 || round.failure) {
      round = { waiting: new Set(this.keys), reports: new Map(), failure: null, waiters: [] };
      this.rounds.push(round);
    }
    const joined = round;
    const report = new Promise<HealthCheckReport>((resolve, reject) => joined.waiters.push({ resolve, reject }));
    this.requestCheck();
    return report;
  }

  /** `CHECK_NOW` without waiting for the report: of one node (its IRC event stream dropped or reopened), or of every node. */
  requestCheck(node?: string): void {
    if (this.running) this.actor.send(node === undefined ? { type: 'CHECK_NOW' } : { type: 'CHECK_NOW', node });
  }

  /**
   * Lets the running checks finish (their changes and broadcasts complete), then stops for good. The wait is
   * bounded by `maxWaitMs` so a hung check cannot outlast the process's shutdown deadline.
   */
  async stop({ maxWaitMs = 3_000 }: { maxWaitMs?: number } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.started) return;
    const checking = this.keys.filter((key) => this.child(key)?.getSnapshot().value === 'checking');
    if (checking.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((done) => {
        timer = setTimeout(done, maxWaitMs);
        this.rounds.push({
          waiting: new Set(checking),
          reports: new Map(),
          failure: null,
          waiters: [{ resolve: () => done(), reject: () => done() }],
        });
      });
      clearTimeout(timer);
    }
    this.actor.send({ type: 'STOP' });
    this.actor.stop();
    const rounds = this.rounds;
    this.rounds = [];
    const stopped = new HealthSupervisorNotRunning('the health supervisor stopped');
    for (const round of rounds) for (const waiter of round.waiters) waiter.reject(stopped);
  }

  private child(key: string): NodeSupervisorRef | undefined {
    return this.actor.getSnapshot().children[nodeSupervisorId(key)] as NodeSupervisorRef | undefined;
  }

  /** A node's check ended: every round waiting for it takes its report, and a complete round is answered. */
  private nodeSettled(key: string, result: { report: HealthCheckReport } | { error: unknown }): void {
    for (const round of this.rounds) {
      if (!round.waiting.delete(key)) continue;
      if ('report' in result) round.reports.set(key, result.report);
      else round.failure ??= { error: result.error };
    }
    const done = this.rounds.filter((round) => round.waiting.size === 0);
    this.rounds = this.rounds.filter((round) => round.waiting.size > 0);
    for (const round of done) {
      if (round.failure) {
        for (const waiter of round.waiters) waiter.reject(round.failure.error);
        continue;
      }
      const report = combineReports(this.keys.flatMap((node) => round.reports.get(node) ?? []));
      for (const waiter of round.waiters) waiter.resolve(report);
    }
  }

  private remember(node: string | undefined, check: HealthCheckSummary): void {
    this.recentChecks = [check, ...this.recentChecks].slice(0, RECENT_CHECKS);
    this.lastChecks.set(node ?? LONE_NODE, check);
  }

  /** One check of one node, timed: its outcome and duration go to the metrics and to the recent checks. */
  private async timedCheck(options: PerformOptions): Promise<HealthCheckReport> {
    const { job, metrics } = this.deps;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1_000;
    try {
      const report = await job.perform(options);
      metrics?.checkFinished(report, seconds());
      this.remember(options.node, summarizeReport(report));
      return report;
    } catch (error) {
      const elapsed = seconds();
      metrics?.checkFailed(elapsed);
      this.remember(options.node, {
        checkedAt: new Date().toISOString(),
        outcome: 'failed',
        durationMs: Math.round(elapsed * 1_000),
        disconnected: 0,
        markedConnected: 0,
        error: errorMessage(error),
      });
      throw error;
    }
  }

  private publishHealth(): void {
    const report = this.lastReport;
    const contexts = this.started
      ? this.keys.flatMap((key) => {
          const child = this.child(key);
          return child ? [child.getSnapshot().context] : [];
        })
      : [];
    const lastFailure = contexts.find((context) => context.lastFailure !== null)?.lastFailure ?? null;
    this.deps.events.publish('health', {
      state: this.state,
      checkedAt: report?.checkedAt ?? null,
      outcome: report?.outcome ?? null,
      consecutiveUnknown: Math.max(0, ...contexts.map((context) => context.consecutiveUnknown)),
      error: report?.error ?? (lastFailure ? { name: 'Error', message: lastFailure } : null),
      recent: this.recentChecks,
      nodes: this.nodes,
    });
  }
}
