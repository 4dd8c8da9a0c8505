import { expect, vi } from 'vitest';
import { type AnyMachineSnapshot, createActor, type EventObject, fromPromise } from 'xstate';
import { healthSupervisorMachine } from '../../machines/health-supervisor.machine.ts';
import type { HealthCheckReport, PerformOptions } from '../../src/shared/health-check-report.ts';
import { healthReport } from '../support/health-report.ts';
import { recordTransitions } from '../support/machine-trace.ts';
import {
  delayedEvents,
  delayOf,
  describeModelReplays,
  type ModelEvent,
  type ModelPath,
  modelPaths,
  statePathsOf,
} from './machine-model.ts';

/**
 * Model-based tests of the health supervisor: @xstate/graph walks the machine to every state and takes
 * every transition out of each, and each path is replayed on a live actor with fake timers and a fake
 * check, checking the invariants after every step.
 */

/** The interval as the web side provides it (HEALTH_CHECK_INTERVAL_MS), not the machine's default. */
const INTERVAL_MS = 5_000;

const report = healthReport;

const CHECK_DONE = 'xstate.done.actor.check';
const CHECK_ERROR = 'xstate.error.actor.check';

function events(snapshot: AnyMachineSnapshot): ModelEvent[] {
  const check: ModelEvent[] = snapshot.matches('checking')
    ? [
        { type: CHECK_DONE, output: report('answered') },
        { type: CHECK_DONE, output: report('unavailable') },
        { type: CHECK_DONE, output: report('unknown') },
        { type: CHECK_ERROR, error: new Error('database down') },
      ]
    : [];
  return [{ type: 'CHECK_NOW' }, { type: 'STOP' }, ...check, ...delayedEvents(healthSupervisorMachine, snapshot)];
}

interface CheckRun {
  input: PerformOptions;
  resolve: (report: HealthCheckReport) => void;
  reject: (error: Error) => void;
  settled: boolean;
}

/** A live supervisor whose checks the replay settles one by one. */
function liveSupervisor(label: string) {
  const runs: CheckRun[] = [];
  const check = fromPromise<HealthCheckReport, PerformOptions>(
    ({ input }) =>
      new Promise((resolve, reject) => {
        const run: CheckRun = {
          input,
          settled: false,
          resolve: (value) => {
            run.settled = true;
            resolve(value);
          },
          reject: (error) => {
            run.settled = true;
            reject(error);
          },
        };
        runs.push(run);
      }),
  );
  const trace = recordTransitions(label);
  const machine = healthSupervisorMachine.provide({ actors: { check }, delays: { checkInterval: INTERVAL_MS } });
  const actor = createActor(machine, { input: { failureThreshold: 2 }, inspect: trace.inspect });
  actor.start();

  const pending = () => runs.filter((run) => !run.settled);
  const snapshot = () => actor.getSnapshot();

  async function perform(event: EventObject) {
    const delay = delayOf(event);
    if (delay === 'checkInterval') {
      await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    } else if (delay) {
      throw new Error(`the replay does not know the delay ${delay}`);
    } else if (event.type === CHECK_DONE || event.type === CHECK_ERROR) {
      const run = pending().at(-1);
      if (!run) throw new Error(`no check running for ${event.type}`);
      if (event.type === CHECK_DONE) run.resolve((event as unknown as { output: HealthCheckReport }).output);
      else run.reject((event as unknown as { error: Error }).error);
      // the settled promise reaches the machine
      await vi.advanceTimersByTimeAsync(0);
    } else {
      actor.send(event as never);
    }
  }

  return { actor, runs, pending, snapshot, perform, trace };
}

type Live = ReturnType<typeof liveSupervisor>;

/** What must hold after every step, whatever the path. */
function checkInvariants(live: Live, where: string) {
  const snapshot = live.snapshot();
  expect(snapshot.status, where).not.toBe('error');
  if (snapshot.matches('checking')) {
    // one check at a time: the invoked one
    expect(live.pending(), where).toHaveLength(1);
    expect(snapshot.children.check, where).toBeDefined();
    expect(vi.getTimerCount(), where).toBe(0);
  }
  if (snapshot.matches('healthy') || snapshot.matches('degraded')) {
    // waiting for exactly the next check
    expect(live.pending(), where).toHaveLength(0);
    expect(Object.keys(snapshot.children), where).toEqual([]);
    expect(vi.getTimerCount(), where).toBe(1);
  }
  if (snapshot.matches('stopped')) {
    // released: no check, no timer
    expect(snapshot.status, where).toBe('done');
    expect(Object.keys(snapshot.children), where).toEqual([]);
    expect(vi.getTimerCount(), where).toBe(0);
  }
}

const paths = modelPaths(healthSupervisorMachine, {
  input: { failureThreshold: 2 },
  events,
  // by value only: the count of unknown results would make the walk endless
  serializeState: (snapshot) => JSON.stringify(snapshot.value),
});

/** Replays one path on a live actor, checking it step by step; returns the state nodes the actor was in. */
async function replay(path: ModelPath): Promise<Set<string>> {
  const reached = new Set<string>();
  const live = liveSupervisor('healthSupervisor');
  for (const value of statePathsOf(live.snapshot().value)) reached.add(value);
  checkInvariants(live, '(start)');

  for (const [index, step] of path.steps.entries()) {
    const where = `step ${index + 1}: ${step.event.type}`;
    await live.perform(step.event);
    expect(live.snapshot().value, where).toEqual(step.value);
    for (const value of statePathsOf(live.snapshot().value)) reached.add(value);
    checkInvariants(live, where);
  }

  const end = live.snapshot();
  if (end.matches('healthy') || end.matches('degraded')) {
    // back to checking after the interval, not before, with a new check
    const checks = live.runs.length;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS - 1);
    expect(live.snapshot().value, 'just before the interval').toBe(end.value);
    await vi.advanceTimersByTimeAsync(1);
    expect(live.snapshot().value, 'after the interval').toBe('checking');
    expect(live.runs, 'after the interval').toHaveLength(checks + 1);
    checkInvariants(live, 'after the interval');
  }
  if (end.matches('stopped')) {
    // a check abandoned by the stop may still settle: nothing starts again
    const checks = live.runs.length;
    for (const run of live.pending()) run.resolve(report('answered'));
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 10);
    expect(live.runs, 'after the stop').toHaveLength(checks);
    expect(live.snapshot().value, 'after the stop').toBe('stopped');
  }
  live.actor.stop();
  return reached;
}

describeModelReplays('healthSupervisor machine, model-based', healthSupervisorMachine, paths, replay);
