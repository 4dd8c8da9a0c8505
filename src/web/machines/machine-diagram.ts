/**
 * Renders a machine definition itself as a diagram, so the diagram cannot drift from the code: as Mermaid
 * `stateDiagram-v2` text (machines/README.md, `npm run machines:diagram`) and as a plain graph of states and
 * transitions (the dashboard draws its live diagram from it). Both show nested states, events, `after` delays by name, guards by name, invoked actors' done/error
 * events, eventless (`always`) transitions and final states.
 *
 * Mermaid draws edges between leaf states only, reliably: an edge that names a composite state moves
 * the state into whatever block it appears in, and one between a state and its own composite parent
 * does not render at all ("would create a cycle"). So every transition is drawn between leaves, after
 * all the state declarations:
 * - a transition into a composite state ends at the leaf it enters (its initial state, recursively);
 *   when the composite is left and entered again (a re-entry from inside it), the label says so;
 * - a transition of a composite state (or of the whole machine) starts at each leaf inside it that does
 *   not always handle that event itself, final states excepted.
 * Transitions between the same two states share one edge, their labels joined by commas.
 * Labels lose the characters Mermaid reads as syntax (`;` ends a statement, `<…>` is stripped as HTML).
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import type { DocumentedMachine } from '../../../machines/index.ts';
import { formatEventType } from '../../machine-transitions.ts';

type AnyTransition = {
  eventType: string;
  target?: ReadonlyArray<AnyStateNode> | undefined;
  guard?: unknown;
  reenter?: boolean;
};

/** A Mermaid-safe id for a state node (its path joined with `__`). */
function nodeId(node: AnyStateNode): string {
  return node.path.length === 0 ? 'root' : node.path.join('__').replace(/[^A-Za-z0-9_]/g, '_');
}

/** Text Mermaid shows as it is: no statement separators, no HTML, one line. */
function safeText(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/;/g, ',')
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/"/g, "'");
}

/** A guard by name: `isHealthy`, or for the combinators `not(a)`, `and(a, b)`, `or(a, b)`, `stateIn(x)`. */
export function guardName(guard: unknown): string | undefined {
  if (!guard) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const combinator = guard as { guards?: unknown[]; stateValue?: unknown; name: string };
    if (Array.isArray(combinator.guards)) {
      return `${combinator.name}(${combinator.guards.map((inner) => guardName(inner) ?? 'guard').join(', ')})`;
    }
    if (combinator.stateValue !== undefined) {
      const value = combinator.stateValue;
      return `${combinator.name}(${typeof value === 'string' ? value : JSON.stringify(value)})`;
    }
    return guard.name || 'guard';
  }
  if (typeof guard === 'object' && 'type' in guard) return String((guard as { type: unknown }).type);
  return 'guard';
}

function delayName(delay: unknown): string {
  if (typeof delay === 'function') return delay.name || 'delay';
  return typeof delay === 'number' ? `${delay}ms` : String(delay);
}

function children(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states) as AnyStateNode[];
}

/** `ancestor` is `node` or one of its parents. */
function contains(ancestor: AnyStateNode, node: AnyStateNode): boolean {
  for (let current: AnyStateNode | undefined = node; current; current = current.parent) {
    if (current === ancestor) return true;
  }
  return false;
}

/** The leaves a transition into `node` ends in: its initial states all the way down (every region of a parallel state). */
function enteredLeaves(node: AnyStateNode): AnyStateNode[] {
  const inner = children(node);
  if (inner.length === 0) return [node];
  if (node.type === 'parallel') return inner.flatMap(enteredLeaves);
  const initial = (node.initial?.target ?? []) as AnyStateNode[];
  return (initial.length > 0 ? initial : inner.slice(0, 1)).flatMap(enteredLeaves);
}

/** Whether `node` (or a state between it and `until`) takes `eventType` itself in every case, hiding its parents' transition. */
function handlesAlways(node: AnyStateNode, until: AnyStateNode, eventType: string): boolean {
  for (let current: AnyStateNode | undefined = node; current && current !== until; current = current.parent) {
    const own = (current.transitions as Map<string, AnyTransition[]>).get(eventType) ?? [];
    if (own.some((transition) => !transition.guard)) return true;
  }
  return false;
}

/** The leaves a transition of `node` can start from. */
function sourceLeaves(node: AnyStateNode, eventType: string): AnyStateNode[] {
  const inner = children(node);
  if (inner.length === 0) return [node];
  const leaves = (state: AnyStateNode): AnyStateNode[] => {
    const below = children(state);
    return below.length === 0 ? [state] : below.flatMap(leaves);
  };
  return inner
    .flatMap(leaves)
    .filter((leaf) => leaf.type !== 'final' && !handlesAlways(leaf, node, eventType))
    .sort((a, b) => a.order - b.order);
}

interface Edge {
  source: AnyStateNode;
  target: AnyStateNode;
  labels: string[];
  /** The composite state the transitions leave and enter again, if they do. */
  reenters: string | undefined;
}

/** Adds the edges of every transition of `node` to `edges` (keyed by source and target, so parallel edges share one line). */
function collectEdges(node: AnyStateNode, edges: Map<string, Edge>): void {
  const draw = (transition: AnyTransition, eventType: string, label: string, branches: readonly AnyTransition[]) => {
    // an unguarded branch after guarded ones of the same event is their `else`
    const guard = guardName(transition.guard) ?? (branches.indexOf(transition) > 0 ? 'else' : undefined);
    const text = guard ? `${label} [${guard}]` : label;
    const targets = transition.target?.length ? transition.target : transition.reenter ? [node] : [];
    for (const target of targets) {
      const targetLeaves = enteredLeaves(target);
      for (const source of sourceLeaves(node, eventType)) {
        // leaving a composite state to enter it again (it restarts what it invokes) looks like a plain
        // move between two of its leaves: say so
        const reenters = children(target).length > 0 && contains(target, source) ? target.key : undefined;
        for (const leaf of targetLeaves) {
          const key = `${nodeId(source)} --> ${nodeId(leaf)} ${reenters ?? ''}`;
          const edge = edges.get(key) ?? { source, target: leaf, labels: [], reenters };
          edge.labels.push(text);
          edges.set(key, edge);
        }
      }
    }
  };

  const delayed = node.after as Array<AnyTransition & { delay: unknown }>;
  for (const transition of delayed) {
    const branches = delayed.filter((other) => other.eventType === transition.eventType);
    draw(transition, transition.eventType, `after(${delayName(transition.delay)})`, branches);
  }
  for (const [eventType, transitions] of node.transitions as Map<string, AnyTransition[]>) {
    if (eventType.startsWith('xstate.after.')) continue;
    for (const transition of transitions) draw(transition, eventType, formatEventType(eventType), transitions);
  }
  const always = (node.always ?? []) as AnyTransition[];
  for (const transition of always) draw(transition, '', 'always', always);
}

function renderStates(node: AnyStateNode, indent: string): string[] {
  const lines: string[] = [];
  const inner = children(node);
  if (node.type === 'parallel') {
    inner.forEach((child, index) => {
      if (index > 0) lines.push(`${indent}--`);
      lines.push(...renderState(child, indent));
    });
    return lines;
  }
  for (const target of (node.initial?.target ?? []) as AnyStateNode[]) lines.push(`${indent}[*] --> ${nodeId(target)}`);
  for (const child of inner) lines.push(...renderState(child, indent));
  for (const child of inner) {
    if (child.type === 'final') lines.push(`${indent}${nodeId(child)} --> [*]`);
  }
  return lines;
}

function renderState(node: AnyStateNode, indent: string): string[] {
  const id = nodeId(node);
  const name = `state "${safeText(node.key)}" as ${id}`;
  const lines =
    children(node).length === 0
      ? [`${indent}${name}`]
      : [`${indent}${name} {`, ...renderStates(node, `${indent}  `), `${indent}}`];
  for (const invoke of node.invoke as Array<{ src: unknown; id: string }>) {
    const actor = typeof invoke.src === 'string' ? invoke.src : invoke.id;
    lines.push(`${indent}note right of ${id}: invokes ${safeText(actor)}`);
  }
  return lines;
}

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...children(node).flatMap(allNodes)];
}

function machineEdges(machine: AnyStateMachine): Edge[] {
  const edges = new Map<string, Edge>();
  for (const node of allNodes(machine.root as AnyStateNode)) collectEdges(node, edges);
  return [...edges.values()];
}

function edgeLabel({ labels, reenters }: Edge): string {
  return labels.join(', ') + (reenters === undefined ? '' : ` (re-enters ${reenters})`);
}

export function machineToMermaid(machine: AnyStateMachine): string {
  return [
    'stateDiagram-v2',
    ...renderStates(machine.root as AnyStateNode, '  '),
    ...machineEdges(machine).map(
      (edge) => `  ${nodeId(edge.source)} --> ${nodeId(edge.target)}: ${safeText(edgeLabel(edge))}`,
    ),
  ].join('\n');
}

/** A state of a machine graph; `id` is its path joined with dots, as a snapshot's state value reads (`socket.registered`). */
export interface MachineGraphState {
  id: string;
  key: string;
  /** The id of the composite state it is in; null at the top level. */
  parent: string | null;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** It is where its parent (or the machine) starts. */
  initial: boolean;
  /** The actors it invokes while it is active. */
  invokes: string[];
}

/** A transition between two leaf states, with the events (delays, guards) that take it, as the Mermaid diagram labels it. */
export interface MachineGraphTransition {
  source: string;
  target: string;
  label: string;
}

export interface MachineGraph {
  id: string;
  description: string;
  /** Every state in document order (a composite state before the states inside it). */
  states: MachineGraphState[];
  transitions: MachineGraphTransition[];
}

/** The machine's states and its transitions between leaves: the same edges as the Mermaid diagram, as data. */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const root = machine.root as AnyStateNode;
  const pathId = (node: AnyStateNode) => node.path.join('.');
  const states = allNodes(root)
    .filter((node) => node !== root)
    .map((node): MachineGraphState => {
      const parent = node.parent && node.parent !== root ? node.parent : undefined;
      const initialOf = ((node.parent?.initial?.target ?? []) as AnyStateNode[]).includes(node);
      return {
        id: pathId(node),
        key: node.key,
        parent: parent ? pathId(parent) : null,
        type: node.type,
        initial: initialOf,
        invokes: (node.invoke as Array<{ src: unknown; id: string }>).map((invoke) =>
          typeof invoke.src === 'string' ? invoke.src : invoke.id,
        ),
      };
    });
  const transitions = machineEdges(machine).map((edge) => ({
    source: pathId(edge.source),
    target: pathId(edge.target),
    label: edgeLabel(edge),
  }));
  return { id: machine.id, description: root.description ?? '', states, transitions };
}

/** The whole `machines/README.md`: a section per machine with its description and generated diagram. */
export function renderMachinesReadme(machines: DocumentedMachine[]): string {
  const sections = machines.map(({ title, file, machine }) => {
    const description = (machine.root as AnyStateNode).description ?? '';
    return [
      `## ${title}`,
      '',
      `[\`${file}\`](${file.replace(/^machines\//, './')})`,
      '',
      description,
      '',
      '```mermaid',
      machineToMermaid(machine),
      '```',
      '',
    ].join('\n');
  });
  return [
    '# State machines',
    '',
    '<!-- Generated by `npm run machines:diagram` from the machine definitions. Do not edit by hand: a test',
    '     fails when this file differs from what the command generates. -->',
    '',
    'Diagrams are Mermaid `stateDiagram-v2`: `after(name)` is a named delay, `[name]` a guard (`[else]`: the',
    "event's guards before it failed), `done(actor)` / `error(actor)` the result of an invoked actor, `always` an",
    'eventless transition.',
    'A transition of a composite state is drawn from each of its states that does not handle the event',
    'itself; one that leaves a composite state and enters it again (restarting what it invokes) is',
    'marked `(re-enters name)`.',
    '',
    ...sections,
  ].join('\n');
}
