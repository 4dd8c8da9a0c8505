import { expect, vi } from 'vitest';
import { type AnyActorRef, type AnyMachineSnapshot, createActor, type EventObject, fromPromise } from 'xstate';
import { clusterSupervisorMachine, nodeSupervisorId } from '../../machines/cluster-supervisor.machine.ts';
import { healthSupervisorMachine } from '../../machines/health-supervisor.machine.ts';
import type { HealthCheckReport, PerformOptions } from '../../src/shared/health-check-report.ts';
import { healthReport } from '../support/health-report.ts';
import { recordTransitions } from '../support/machine-trace.ts';
import { describeModelReplays, type ModelEvent, type ModelPath, modelPaths, statePathsOf } from './machine-model.ts';

/**
 * Model-based tests of the cluster supervisor: @xstate/graph walks the machine over two nodes, each node's
 * supervisor moving through its own states (the `xstate.snapshot.node:<name>` events its children send), to
 * every state and every transition out of each. Each path is replayed on a live cluster supervisor whose node
 * supervisors run the real per-node machine with fake checks: a node's `healthy` or `degraded` is its check
 * answering, its `checking` a `CHECK_NOW` for that node. After every step, what the cluster says must be what
 * its children are.
 */

const NODES = ['a', 'b'];
const INTERVAL_MS = 60_000;

const nodeOf = (type: string) => type.replace(/^xstate\.snapshot\.node:/, '');

function events(snapshot: AnyMachineSnapshot): ModelEvent[] {
  const nodeStates = snapshot.context.nodeStates as Record<string, string>;
  const moves = NODES.flatMap((node) =>
    (nodeStates[node] === 'checking' ? ['healthy', 'degraded'] : ['checking']).map((value) => ({
      type: `xstate.snapshot.node:${node}`,
      snapshot: { value },
    })),
  );
  return [...moves, { type: 'STOP' }];
}

/** A live cluster supervisor whose node checks the replay answers node by node. */
function liveCluster() {
  const runs: Array<{ input: PerformOptions; resolve: (report: HealthCheckReport) => void; settled: boolean }> = [];
  const nodeSupervisor = healthSupervisorMachine.provide({
    actors: {
      check: fromPromise<HealthCheckReport, PerformOptions>(
        ({ input }) =>
          new Promise((resolve) => {
            const run = {
              input,
              settled: false,
              resolve: (report: HealthCheckReport) => {
                run.settled = true;
                resolve(report);
              },
            };
            runs.push(run);
          }),
      ),
    },
    delays: { checkInterval: INTERVAL_MS },
  });
  const trace = recordTransitions('clusterSupervisor');
  const actor = createActor(clusterSupervisorMachine.provide({ actors: { nodeSupervisor } }), {
    input: { nodes: NODES, failureThreshold: 2 },
    inspect: trace.inspect,
  });
  actor.start();
  const child = (node: string) => actor.getSnapshot().children[nodeSupervisorId(node)] as AnyActorRef | undefined;

  async function perform(event: EventObject & { snapshot?: { value: string } }) {
    if (event.type === 'STOP') {
      actor.send({ type: 'STOP' });
      return;
    }
    const node = nodeOf(event.type);
    const value = event.snapshot?.value;
    if (value === 'checking') {
      actor.send({ type: 'CHECK_NOW', node });
      return;
    }
    const run = runs.find((each) => each.input.node === node && !each.settled);
    if (!run) throw new Error(`no check of ${node} is running`);
    run.resolve(healthReport(value === 'healthy' ? 'answered' : 'unavailable'));
    // the settled promise reaches the node's supervisor, and its snapshot the cluster's
    await vi.advanceTimersByTimeAsync(0);
  }

  return { actor, runs, child, perform, trace };
}

type Live = ReturnType<typeof liveCluster>;

/** What must hold after every step: the cluster's state and record are what its node supervisors are. */
function checkInvariants(live: Live, where: string) {
  const snapshot = live.actor.getSnapshot();
  expect(snapshot.status, where).not.toBe('error');
  if (snapshot.matches('stopped')) {
    expect(snapshot.status, where).toBe('done');
    return;
  }
  const states = NODES.map((node) => String(live.child(node)?.getSnapshot().value));
  expect(snapshot.context.nodeStates, where).toEqual(Object.fromEntries(NODES.map((node, i) => [node, states[i]])));
  const expected = states.includes('checking')
    ? 'checking'
    : states.every((state) => state === 'healthy')
      ? 'healthy'
      : 'degraded';
  expect(snapshot.value, where).toBe(expected);
  // one check running per node that is checking, none for the others
  for (const [index, node] of NODES.entries()) {
    const running = live.runs.filter((run) => run.input.node === node && !run.settled);
    expect(running, `${where}: checks of ${node}`).toHaveLength(states[index] === 'checking' ? 1 : 0);
  }
}

const paths = modelPaths(clusterSupervisorMachine, {
  input: { nodes: NODES, failureThreshold: 2 },
  events,
  serializeState: (snapshot) => JSON.stringify([snapshot.value, snapshot.context.nodeStates]),
});

async function replay(path: ModelPath): Promise<Set<string>> {
  const reached = new Set<string>();
  const live = liveCluster();
  for (const value of statePathsOf(live.actor.getSnapshot().value)) reached.add(value);
  checkInvariants(live, '(start)');
  for (const [index, step] of path.steps.entries()) {
    const where = `step ${index + 1}: ${step.event.type}`;
    await live.perform(step.event);
    expect(live.actor.getSnapshot().value, where).toEqual(step.value);
    for (const value of statePathsOf(live.actor.getSnapshot().value)) reached.add(value);
    checkInvariants(live, where);
  }
  if (live.actor.getSnapshot().matches('stopped')) {
    // stopped for good: no node checks again
    const checks = live.runs.length;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 5);
    expect(live.runs, 'after the stop').toHaveLength(checks);
  }
  live.actor.stop();
  return reached;
}

describeModelReplays('clusterSupervisor machine, model-based', clusterSupervisorMachine, paths, replay);
