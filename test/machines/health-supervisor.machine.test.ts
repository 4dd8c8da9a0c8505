import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { type HealthSupervisorEmitted, healthSupervisorMachine } from '../../machines/health-supervisor.machine.ts';
import type { HealthCheckReport, PerformOptions } from '../../src/shared/health-check-report.ts';
import { healthReport } from '../support/health-report.ts';
import { recordTransitions } from '../support/machine-trace.ts';

const report = healthReport;

/** A check actor whose runs the test settles one by one. */
function controllableChecks() {
  const runs: Array<{
    input: PerformOptions;
    resolve: (report: HealthCheckReport) => void;
    reject: (error: Error) => void;
  }> = [];
  const check = fromPromise<HealthCheckReport, PerformOptions>(
    ({ input }) =>
      new Promise((resolve, reject) => {
        runs.push({ input, resolve, reject });
      }),
  );
  const current = () => {
    const run = runs.at(-1);
    if (!run) throw new Error('no check has started');
    return run;
  };
  return { check, runs, current };
}

function startSupervisor(failureThreshold = 3) {
  const checks = controllableChecks();
  const trace = recordTransitions('healthSupervisor');
  const actor = createActor(healthSupervisorMachine.provide({ actors: { check: checks.check } }), {
    input: { failureThreshold },
    inspect: trace.inspect,
  });
  const emitted: HealthSupervisorEmitted[] = [];
  actor.on('*', (event) => emitted.push(event));
  actor.start();
  return { actor, checks, emitted, trace };
}

/** Lets the settled check's promise reach the machine. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('health supervisor machine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('checks on start', () => {
    const { actor, checks } = startSupervisor();

    expect(actor.getSnapshot().value).toBe('checking');
    expect(checks.runs).toHaveLength(1);
  });

  it('is healthy when the service answered, and checks again after 30 s, not before', async () => {
    const { actor, checks } = startSupervisor();

    checks.current().resolve(report('answered'));
    await settle();
    expect(actor.getSnapshot().value).toBe('healthy');

    await vi.advanceTimersByTimeAsync(29_999);
    expect(checks.runs).toHaveLength(1);
    expect(actor.getSnapshot().value).toBe('healthy');

    await vi.advanceTimersByTimeAsync(1);
    expect(checks.runs).toHaveLength(2);
    expect(actor.getSnapshot().value).toBe('checking');
  });

  it('is degraded while the service is unavailable and healthy again when it returns', async () => {
    const { actor, checks, trace } = startSupervisor();

    checks.current().resolve(report('unavailable'));
    await settle();
    expect(actor.getSnapshot().value).toBe('degraded');

    await vi.advanceTimersByTimeAsync(30_000);
    checks.current().resolve(report('answered'));
    await settle();

    expect(actor.getSnapshot().value).toBe('healthy');
    expect(trace.lines).toEqual([
      '(start) --> checking',
      'checking --done(check)--> degraded',
      'degraded --after(checkInterval)--> checking',
      'checking --done(check)--> healthy',
    ]);
  });

  it.each(['unknown', 'unauthorized'] as const)('is degraded when the result is %s', async (outcome) => {
    const { actor, checks } = startSupervisor();

    checks.current().resolve(report(outcome));
    await settle();

    expect(actor.getSnapshot().value).toBe('degraded');
  });

  it('is degraded when the check itself fails', async () => {
    const { actor, checks, emitted } = startSupervisor();

    checks.current().reject(new Error('database down'));
    await settle();

    expect(actor.getSnapshot().value).toBe('degraded');
    expect(actor.getSnapshot().context.lastFailure).toBe('database down');
    expect(emitted).toEqual([{ type: 'check-failed', error: new Error('database down') }]);
  });

  it('checks at once on CHECK_NOW, and a CHECK_NOW during a check runs no second one', async () => {
    const { actor, checks, emitted } = startSupervisor();
    checks.current().resolve(report('answered'));
    await settle();

    actor.send({ type: 'CHECK_NOW' });
    expect(actor.getSnapshot().value).toBe('checking');
    expect(checks.runs).toHaveLength(2);

    actor.send({ type: 'CHECK_NOW' });
    actor.send({ type: 'CHECK_NOW' });
    const shared = report('answered', { kept: [7] });
    checks.current().resolve(shared);
    await settle();

    expect(checks.runs).toHaveLength(2);
    expect(actor.getSnapshot().value).toBe('healthy');
    expect(emitted.at(-1)).toEqual({ type: 'checked', report: shared });
    expect(emitted).toHaveLength(2);
  });

  it('treats unknown results as unavailable once the threshold is reached, until the service answers', async () => {
    const { actor, checks } = startSupervisor(3);

    for (let count = 1; count <= 3; count += 1) {
      checks.current().resolve(report('unknown'));
      await settle();
      actor.send({ type: 'CHECK_NOW' });
    }
    checks.current().resolve(report('answered'));
    await settle();
    actor.send({ type: 'CHECK_NOW' });

    expect(checks.runs.map((run) => run.input.treatUnknownAsUnavailable)).toEqual([false, false, true, true, false]);
    expect(actor.getSnapshot().context.consecutiveUnknown).toBe(0);
  });

  it('stops on STOP and checks no more', async () => {
    const { actor, checks } = startSupervisor();
    checks.current().resolve(report('answered'));
    await settle();

    actor.send({ type: 'STOP' });
    await vi.advanceTimersByTimeAsync(60_000);

    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
    expect(checks.runs).toHaveLength(1);
  });
});
