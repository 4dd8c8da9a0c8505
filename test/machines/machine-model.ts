import { getAdjacencyMap, getShortestPaths, type StatePath } from '@xstate/graph';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode, EventObject } from 'xstate';
import { formatEventType, formatStateValue } from '../../src/machine-transitions.ts';

/**
 * Model-based testing helpers: the paths to replay on a live actor, and the state coverage they reach.
 *
 * The walk is @xstate/graph's over the pure machine (`machine.transition`); each path is then replayed by
 * the test on a real actor with fake timers and provided fake actors, step by step, checking that the
 * actor agrees with the model and that the machine's invariants hold.
 */

/** An event with its payload, as the walk sends it. */
export type ModelEvent = EventObject & Record<string, unknown>;

export interface ModelStep {
  event: EventObject;
  /** The state value the model reaches with this event. */
  value: unknown;
}

export interface ModelPath {
  /** `socket.connecting --REGISTERED--> socket.registered --STOP--> ...` */
  description: string;
  steps: ModelStep[];
}

/** Every state node of the machine as a dotted path (`socket`, `socket.connecting`, ...), from `machine.root` down. */
export function stateNodePaths(machine: AnyStateMachine): string[] {
  const walk = (node: AnyStateNode): string[] =>
    (Object.values(node.states) as AnyStateNode[]).flatMap((child) => [child.path.join('.'), ...walk(child)]);
  return walk(machine.root as AnyStateNode).sort();
}

/** The state nodes a state value is in: `{ socket: 'registered' }` is in `socket` and `socket.registered`. */
export function statePathsOf(value: unknown, prefix: string[] = []): string[] {
  if (typeof value === 'string') return [[...prefix, value].join('.')];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, child]) => [
      [...prefix, key].join('.'),
      ...statePathsOf(child, [...prefix, key]),
    ]);
  }
  return [];
}

/**
 * The delayed events (`xstate.after.<delay>.<state id>`) the machine waits for in this snapshot, with the
 * delay's name: derived from the active state nodes, so a new delay is walked without a test change.
 */
export function delayedEvents(machine: AnyStateMachine, snapshot: AnyMachineSnapshot): ModelEvent[] {
  const nodes: AnyStateNode[] = [];
  const walk = (node: AnyStateNode) => {
    nodes.push(node);
    for (const child of Object.values(node.states) as AnyStateNode[]) walk(child);
  };
  walk(machine.root as AnyStateNode);
  return nodes
    .filter((node) => node.path.length > 0 && snapshot.matches(node.path.join('.') as never))
    .flatMap((node) => (node.after as Array<{ eventType: string }>).map(({ eventType }) => eventType))
    .filter((type, index, all) => all.indexOf(type) === index)
    .map((type) => ({ type }));
}

/** The delay's name in an `xstate.after.<delay>.<state id>` event type, or undefined for other events. */
export function delayOf(event: EventObject): string | undefined {
  return /^xstate\.after\.([^.]+)\./.exec(event.type)?.[1];
}

export interface ModelOptions<TInput> {
  input: TInput;
  /** The events worth sending in a snapshot (a function: an array would replace the derived list). */
  events: (snapshot: AnyMachineSnapshot) => ModelEvent[];
  /** By value (and whatever in the context changes behaviour), never by counters: the walk must end. */
  serializeState: (snapshot: AnyMachineSnapshot) => string;
}

function describePath(steps: ModelStep[], initial: unknown): string {
  return steps.reduce(
    (text, step) => `${text} --${formatEventType(step.event.type)}--> ${formatStateValue(step.value)}`,
    formatStateValue(initial),
  );
}

/**
 * A shortest path to every state of the model, and each of them extended by every event the model
 * answers in that state: so every state is reached and every transition out of it is taken once.
 */
export function modelPaths<TInput>(machine: AnyStateMachine, options: ModelOptions<TInput>): ModelPath[] {
  const traversal = {
    input: options.input,
    events: options.events,
    serializeState: options.serializeState,
  } as Parameters<typeof getShortestPaths>[1];
  const shortest = getShortestPaths(machine, traversal) as Array<StatePath<AnyMachineSnapshot, EventObject>>;
  const adjacency = getAdjacencyMap(machine, traversal as never) as Record<
    string,
    { state: AnyMachineSnapshot; transitions: Record<string, { event: EventObject; state: AnyMachineSnapshot }> }
  >;
  // every path starts with the model's `xstate.init` step into the initial state
  const initial = shortest[0]?.steps[0]?.state.value;

  const paths: ModelPath[] = [];
  const seen = new Set<string>();
  const names = new Map<string, number>();
  const add = (steps: ModelStep[]) => {
    const key = JSON.stringify(steps.map((step) => step.event));
    if (seen.has(key)) return;
    seen.add(key);
    // events of one type with other payloads (a CONFIGURE with other settings) read alike: number them
    const description = describePath(steps, initial);
    const count = (names.get(description) ?? 0) + 1;
    names.set(description, count);
    paths.push({ description: count > 1 ? `${description} (${count})` : description, steps });
  };
  for (const path of shortest) {
    const steps = path.steps
      .filter((step) => step.event.type !== 'xstate.init')
      .map((step) => ({ event: step.event, value: step.state.value }));
    add(steps);
    // a machine that is done answers nothing more
    if (path.state.status === 'done') continue;
    const key = options.serializeState(path.state);
    for (const { event, state } of Object.values(adjacency[key]?.transitions ?? {})) {
      add([...steps, { event, value: state.value }]);
    }
  }
  return paths;
}

/**
 * The model-based suite of one machine, with fake timers: one test per path (replayed on a live actor by
 * `replay`, which answers the state paths it reached), and one that every state of the machine was reached. That
 * one replays every path itself, so it holds alone (`-t`) as well as after the others.
 */
export function describeModelReplays(
  title: string,
  machine: AnyStateMachine,
  paths: readonly ModelPath[],
  replay: (path: ModelPath) => Iterable<string> | Promise<Iterable<string>>,
): void {
  describe(title, () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });

    afterEach(() => {
      vi.useRealTimers();
    });

    it.each(paths.map((path) => [path.description, path] as const))('%s', async (_, path) => {
      await replay(path);
    });

    it('reached every state of the machine', async () => {
      const reached = new Set<string>();
      for (const path of paths) for (const value of await replay(path)) reached.add(value);

      expect([...reached].sort()).toEqual(stateNodePaths(machine));
    });
  });
}
