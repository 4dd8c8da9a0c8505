/**
 * Renders a machine definition itself as a diagram, so the diagram cannot drift from the code: as Mermaid
 * `stateDiagram-v2` text (machines/README.md, `npm run machines:diagram`) and as a plain graph of states and
 * transitions (the dashboard draws its live diagram from it); the Mermaid text can also highlight a path
 * through the machine (a failing machine test's trace, test/support/machine-trace.ts). Both show nested states, events, `after` delays by name, guards by name, invoked actors' done/error
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

/** Words added to a state's name, by node id (the path's marks, which show where class styles do not). */
type StateMarks = ReadonlyMap<string, string>;

function renderStates(node: AnyStateNode, indent: string, marks: StateMarks = new Map()): string[] {
  const lines: string[] = [];
  const inner = children(node);
  if (node.type === 'parallel') {
    inner.forEach((child, index) => {
      if (index > 0) lines.push(`${indent}--`);
      lines.push(...renderState(child, indent, marks));
    });
    return lines;
  }
  for (const target of (node.initial?.target ?? []) as AnyStateNode[]) lines.push(`${indent}[*] --> ${nodeId(target)}`);
  for (const child of inner) lines.push(...renderState(child, indent, marks));
  for (const child of inner) {
    if (child.type === 'final') lines.push(`${indent}${nodeId(child)} --> [*]`);
  }
  return lines;
}

function renderState(node: AnyStateNode, indent: string, marks: StateMarks): string[] {
  const id = nodeId(node);
  const mark = marks.get(id);
  const name = `state "${safeText(mark ? `${node.key} ${mark}` : node.key)}" as ${id}`;
  const lines =
    children(node).length === 0
      ? [`${indent}${name}`]
      : [`${indent}${name} {`, ...renderStates(node, `${indent}  `, marks), `${indent}}`];
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

/** One move between two leaf states on a path the machine took, by dotted path (`socket.connecting`). */
export interface TakenTransition {
  source: string;
  target: string;
  /** As the diagram labels events: `CLOSED`, `after(retryDelay)`, `done(check)`, `always`. */
  event: string;
}

/** A path to highlight on the diagram, as a failing test's trace records it. */
export interface DiagramHighlight {
  /** Leaf states the path passed through, by dotted path. */
  visited: Iterable<string>;
  /** The leaf states it ended in: drawn apart from the visited ones. */
  current?: Iterable<string>;
  /** The moves in order: the edge of each is labelled with the numbers (from 1) of the steps that took it. */
  transitions?: readonly TakenTransition[];
}

export interface MermaidOptions {
  highlight?: DiagramHighlight;
}

// Mermaid styles a state through `classDef` and `class` statements (not `linkStyle`, which is flowcharts
// only); taken edges are marked in their label, which every renderer shows
const HIGHLIGHT_CLASSES = [
  'classDef visited fill:#fef3c7,stroke:#b45309,stroke-width:2px',
  'classDef current fill:#fde68a,stroke:#b91c1c,stroke-width:3px,font-weight:bold',
];
const MAX_STEP_NUMBERS = 8;

/** Whether a label of an edge (`CLOSED [else]`, `after(quitTimeout) [stopAfterQuit]`) is this event's. */
function labelIsEvent(label: string, event: string): boolean {
  return label === event || label.startsWith(`${event} [`);
}

/** The step numbers (from 1) of each edge the path took. */
function stepsPerEdge(edges: Edge[], taken: readonly TakenTransition[]): Map<Edge, number[]> {
  const pathId = (node: AnyStateNode) => node.path.join('.');
  const steps = new Map<Edge, number[]>();
  taken.forEach((transition, index) => {
    const between = edges.filter(
      (edge) => pathId(edge.source) === transition.source && pathId(edge.target) === transition.target,
    );
    // a re-entry and a plain move can join the same two leaves: the event tells them apart
    const edge = between.find((candidate) => candidate.labels.some((label) => labelIsEvent(label, transition.event)));
    const chosen = edge ?? between[0];
    if (chosen) steps.set(chosen, [...(steps.get(chosen) ?? []), index + 1]);
  });
  return steps;
}

function stepsText(steps: number[]): string {
  const shown = steps.slice(0, MAX_STEP_NUMBERS).join(', ');
  const more = steps.length > MAX_STEP_NUMBERS ? `, … (${steps.length} times)` : '';
  return ` — taken at step${steps.length > 1 ? 's' : ''} ${shown}${more}`;
}

/** The node ids of the path's leaves: those it visited, and those it ended in. */
function highlightedLeaves(machine: AnyStateMachine, highlight: DiagramHighlight) {
  const leaves = new Map(
    allNodes(machine.root as AnyStateNode)
      .filter((node) => children(node).length === 0 && node.path.length > 0)
      .map((node) => [node.path.join('.'), nodeId(node)]),
  );
  const ids = (paths: Iterable<string>) =>
    [...new Set(paths)].flatMap((path) => {
      const id = leaves.get(path);
      return id === undefined ? [] : [id];
    });
  const current = ids(highlight.current ?? []);
  const visited = ids(highlight.visited).filter((id) => !current.includes(id));
  return { visited, current };
}

function highlightLines({ visited, current }: { visited: string[]; current: string[] }): string[] {
  return [
    ...HIGHLIGHT_CLASSES.map((line) => `  ${line}`),
    ...(visited.length > 0 ? [`  class ${visited.join(', ')} visited`] : []),
    ...(current.length > 0 ? [`  class ${current.join(', ')} current`] : []),
  ];
}

/**
 * The machine as Mermaid `stateDiagram-v2`; with `highlight`, a path through it: its visited leaf states
 * and the one it ended in styled by class, and each edge it took labelled with the steps that took it.
 */
export function machineToMermaid(machine: AnyStateMachine, options: MermaidOptions = {}): string {
  const { highlight } = options;
  const edges = machineEdges(machine);
  const taken = highlight?.transitions ? stepsPerEdge(edges, highlight.transitions) : new Map<Edge, number[]>();
  const leaves = highlight ? highlightedLeaves(machine, highlight) : { visited: [], current: [] };
  // Mermaid's docs say class styles may not reach states inside a composite state: the names say it too
  const marks = new Map<string, string>([
    ...leaves.visited.map((id): [string, string] => [id, '(visited)']),
    ...leaves.current.map((id): [string, string] => [id, '(ended here)']),
  ]);
  return [
    'stateDiagram-v2',
    ...renderStates(machine.root as AnyStateNode, '  ', marks),
    ...edges.map((edge) => {
      const steps = taken.get(edge);
      const label = safeText(edgeLabel(edge)) + (steps ? safeText(stepsText(steps)) : '');
      return `  ${nodeId(edge.source)} --> ${nodeId(edge.target)}: ${label}`;
    }),
    ...(highlight ? highlightLines(leaves) : []),
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
