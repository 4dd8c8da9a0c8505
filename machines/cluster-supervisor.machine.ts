/**
 * The cluster supervisor: one health supervisor per IRC service node, as child actors.
 *
 * On start it spawns (`spawnChild`) one `nodeSupervisor` per node, with the id `node:<name>`; each runs the
 * per-node machine (`health-supervisor.machine.ts`: checking / healthy / degraded, its own failure threshold and
 * interval) and checks only its node. `CHECK_NOW` with a `node` goes to that node's child (its event stream
 * dropped or reopened), without one to every child (the API). The children's snapshots come back
 * (`syncSnapshot`) as `xstate.snapshot.node:<name>` events; the cluster's own state is derived from them:
 * `checking` while any node checks, then `healthy` when every node is healthy, else `degraded`. With one node it
 * is that node's state. `STOP` stops every child and ends in `stopped`.
 *
 * The machine is pure: the per-node machine comes in through `machine.provide({ actors: { nodeSupervisor } })`,
 * provided with the real check where the web side is assembled.
 */
import { assign, enqueueActions, not, setup } from 'xstate';
import { type HealthSupervisorState, healthSupervisorMachine } from './health-supervisor.machine.ts';

export interface ClusterSupervisorInput {
  /** The nodes to supervise, by name (`IRC_SERVICE_URLS`); one for `IRC_SERVICE_URL`. */
  nodes: readonly string[];
  /** `HEALTH_CHECK_FAILURE_THRESHOLD`, given to every node's supervisor. */
  failureThreshold: number;
}

/** The state of one node's supervisor as its last snapshot told it. */
export type NodeSupervisorState = Exclude<HealthSupervisorState, 'stopped'>;

export interface ClusterSupervisorContext {
  nodes: readonly string[];
  failureThreshold: number;
  /** Each node's supervisor state, from its snapshots; `checking` until its first one. */
  nodeStates: Record<string, NodeSupervisorState>;
}

/** A child's snapshot, as `syncSnapshot` relays it (`xstate.snapshot.node:<name>`). */
interface NodeSnapshotEvent {
  type: `xstate.snapshot.${string}`;
  snapshot: { value: unknown };
}

export type ClusterSupervisorEvent = { type: 'CHECK_NOW'; node?: string } | { type: 'STOP' } | NodeSnapshotEvent;

/** The id of a node's supervisor among the cluster supervisor's children. */
export function nodeSupervisorId(node: string): `node:${string}` {
  return `node:${node}`;
}

const SNAPSHOT_PREFIX = 'xstate.snapshot.node:';

export const clusterSupervisorMachine = setup({
  types: {
    input: {} as ClusterSupervisorInput,
    context: {} as ClusterSupervisorContext,
    events: {} as ClusterSupervisorEvent,
  },
  actors: { nodeSupervisor: healthSupervisorMachine },
  guards: {
    someNodeChecking: ({ context }) => Object.values(context.nodeStates).some((state) => state === 'checking'),
    everyNodeHealthy: ({ context }) => Object.values(context.nodeStates).every((state) => state === 'healthy'),
    noNodeChecking: ({ context }) => Object.values(context.nodeStates).every((state) => state !== 'checking'),
  },
  actions: {
    spawnNodeSupervisors: enqueueActions(({ context, enqueue }) => {
      for (const node of context.nodes) {
        enqueue.spawnChild('nodeSupervisor', {
          id: nodeSupervisorId(node),
          input: { failureThreshold: context.failureThreshold, node },
          syncSnapshot: true,
        });
      }
    }),
    forwardCheckNow: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'CHECK_NOW') return;
      // a node not in the cluster has no supervisor: nothing to check
      const nodes = event.node === undefined ? context.nodes : context.nodes.filter((node) => node === event.node);
      for (const node of nodes) enqueue.sendTo(nodeSupervisorId(node), { type: 'CHECK_NOW' });
    }),
    stopNodeSupervisors: enqueueActions(({ context, enqueue }) => {
      for (const node of context.nodes) enqueue.sendTo(nodeSupervisorId(node), { type: 'STOP' });
    }),
    recordNodeState: assign(({ context, event }) => {
      if (!event.type.startsWith(SNAPSHOT_PREFIX)) return {};
      const node = event.type.slice(SNAPSHOT_PREFIX.length);
      const state = (event as NodeSnapshotEvent).snapshot.value;
      if (!context.nodes.includes(node) || !isNodeState(state)) return {};
      return { nodeStates: { ...context.nodeStates, [node]: state } };
    }),
  },
}).createMachine({
  id: 'clusterSupervisor',
  description:
    "The cluster supervisor of the web side: on start it spawns one `nodeSupervisor` child per IRC service node (the per-node health supervisor below, id `node:<name>`), each checking only its own node. `CHECK_NOW` with a `node` (that node's event stream dropped or reopened) goes to that child, without one (the API) to every child. The children's snapshots come back as `xstate.snapshot.node:<name>` events and decide the cluster's state: `checking` while any node checks, then `healthy` when every node is healthy, else `degraded`; with one node it is that node's state. `STOP` stops every child and ends in the final state `stopped`.",
  context: ({ input }) => ({
    nodes: [...input.nodes],
    failureThreshold: input.failureThreshold,
    nodeStates: Object.fromEntries(input.nodes.map((node) => [node, 'checking' as const])),
  }),
  entry: 'spawnNodeSupervisors',
  initial: 'checking',
  on: {
    CHECK_NOW: { actions: 'forwardCheckNow' },
    'xstate.snapshot.*': { actions: 'recordNodeState' },
    STOP: { target: '.stopped', actions: 'stopNodeSupervisors' },
  },
  states: {
    checking: {
      always: [
        { guard: 'everyNodeHealthy', target: 'healthy' },
        { guard: 'noNodeChecking', target: 'degraded' },
      ],
    },
    healthy: {
      always: [
        { guard: 'someNodeChecking', target: 'checking' },
        { guard: not('everyNodeHealthy'), target: 'degraded' },
      ],
    },
    degraded: {
      always: [
        { guard: 'someNodeChecking', target: 'checking' },
        { guard: 'everyNodeHealthy', target: 'healthy' },
      ],
    },
    stopped: { type: 'final' },
  },
});

function isNodeState(value: unknown): value is NodeSupervisorState {
  return value === 'checking' || value === 'healthy' || value === 'degraded';
}

export type ClusterSupervisorState = 'checking' | 'healthy' | 'degraded' | 'stopped';
