import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AnyActorRef, createActor, fromPromise } from 'xstate';
import { clusterSupervisorMachine, nodeSupervisorId } from '../../machines/cluster-supervisor.machine.ts';
import { type HealthSupervisorEmitted, healthSupervisorMachine } from '../../machines/health-supervisor.machine.ts';
import type { HealthCheckReport, PerformOptions } from '../../src/shared/health-check-report.ts';
import { healthReport } from '../support/health-report.ts';
import { recordTransitions } from '../support/machine-trace.ts';

type CheckRun = { input: PerformOptions; resolve: (report: HealthCheckReport) => void };

/** The cluster supervisor over these nodes, each node's supervisor given a check the test settles by node. */
function startCluster(nodes: string[], failureThreshold = 3) {
  const runs: CheckRun[] = [];
  const nodeSupervisor = healthSupervisorMachine.provide({
    actors: {
      check: fromPromise<HealthCheckReport, PerformOptions>(
        ({ input }) => new Promise((resolve) => runs.push({ input, resolve })),
      ),
    },
  });
  const trace = recordTransitions('clusterSupervisor');
  const actor = createActor(clusterSupervisorMachine.provide({ actors: { nodeSupervisor } }), {
    input: { nodes, failureThreshold },
    inspect: trace.inspect,
  });
  actor.start();
  /** The running check of a node (the last one it started). */
  const running = (node: string) => {
    const run = [...runs].reverse().find((each) => each.input.node === node);
    if (!run) throw new Error(`no check of ${node} has started`);
    return run;
  };
  const child = (node: string) => actor.getSnapshot().children[nodeSupervisorId(node)] as AnyActorRef;
  return { actor, runs, running, child, trace };
}

const settle = () => vi.advanceTimersByTimeAsync(0);

describe('cluster supervisor machine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spawns one supervisor per node, named node:<name>, each checking only its node', () => {
    const { actor, runs } = startCluster(['a', 'b', 'c']);

    expect(Object.keys(actor.getSnapshot().children).sort()).toEqual(['node:a', 'node:b', 'node:c']);
    expect(runs.map((run) => run.input.node)).toEqual(['a', 'b', 'c']);
    expect(actor.getSnapshot().value).toBe('checking');
  });

  it('is checking until every node has a result, healthy when every node answered, degraded when one did not', async () => {
    const { actor, running, trace } = startCluster(['a', 'b']);

    running('a').resolve(healthReport('answered'));
    await settle();
    expect(actor.getSnapshot().value).toBe('checking');
    running('b').resolve(healthReport('answered'));
    await settle();
    expect(actor.getSnapshot().value).toBe('healthy');

    actor.send({ type: 'CHECK_NOW', node: 'b' });
    running('b').resolve(healthReport('unavailable'));
    await settle();

    expect(actor.getSnapshot().value).toBe('degraded');
    expect(actor.getSnapshot().context.nodeStates).toEqual({ a: 'healthy', b: 'degraded' });
    expect(trace.lines).toContain('healthy --xstate.snapshot.node:b--> checking');
  });

  it("forwards CHECK_NOW with a node to that node's supervisor only, and without one to every node", async () => {
    const { actor, runs, running } = startCluster(['a', 'b', 'c']);
    for (const node of ['a', 'b', 'c']) running(node).resolve(healthReport('answered'));
    await settle();

    actor.send({ type: 'CHECK_NOW', node: 'b' });
    actor.send({ type: 'CHECK_NOW', node: 'not-a-node' });
    expect(runs.slice(3).map((run) => run.input.node)).toEqual(['b']);

    actor.send({ type: 'CHECK_NOW' });
    // b is still checking: its running check serves this request too
    expect(runs.slice(4).map((run) => run.input.node)).toEqual(['a', 'c']);
  });

  it("counts each node's unknown results apart: one node's threshold does not make another's unknown unavailable", async () => {
    const { actor, runs, running } = startCluster(['a', 'b'], 2);

    running('a').resolve(healthReport('unknown'));
    running('b').resolve(healthReport('answered'));
    await settle();
    actor.send({ type: 'CHECK_NOW' });

    expect(runs.slice(2).map((run) => run.input)).toEqual([
      { node: 'a', treatUnknownAsUnavailable: true },
      { node: 'b', treatUnknownAsUnavailable: false },
    ]);
  });

  it("lets the wiring hear each node's reports from its supervisor", async () => {
    const { running, child } = startCluster(['a', 'b']);
    const heard: Array<{ node: string; event: HealthSupervisorEmitted }> = [];
    for (const node of ['a', 'b']) child(node).on('*', (event: HealthSupervisorEmitted) => heard.push({ node, event }));

    const fromB = healthReport('unavailable');
    running('b').resolve(fromB);
    await settle();

    expect(heard).toEqual([{ node: 'b', event: { type: 'checked', report: fromB } }]);
  });

  it('stops every node on STOP and checks no more', async () => {
    const { actor, runs, running, child } = startCluster(['a', 'b']);
    running('a').resolve(healthReport('answered'));
    running('b').resolve(healthReport('answered'));
    await settle();
    const nodeA = child('a');

    actor.send({ type: 'STOP' });
    await vi.advanceTimersByTimeAsync(120_000);

    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
    expect(nodeA.getSnapshot().value).toBe('stopped');
    expect(runs).toHaveLength(2);
  });

  it('with one node is in the state of that node', async () => {
    const { actor, running, child } = startCluster(['only']);

    running('only').resolve(healthReport('unknown'));
    await settle();

    expect(actor.getSnapshot().value).toBe(child('only').getSnapshot().value);
    expect(actor.getSnapshot().value).toBe('degraded');
  });
});
