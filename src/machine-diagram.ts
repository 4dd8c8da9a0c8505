import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { formatEventType } from './machine-transitions.ts';

/**
 * Renders a Mermaid `stateDiagram-v2` from a machine definition itself, so the diagram cannot drift from
 * the code: nested states, events, `after` delays by name, guards by name, invoked actors' done/error
 * events, eventless (`always`) transitions and final states.
 */

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

function guardName(guard: unknown): string | undefined {
  if (!guard) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && guard !== null && 'type' in guard) return String((guard as { type: unknown }).type);
  return 'guard';
}

function eventLabel(eventType: string, delay?: unknown): string {
  if (delay !== undefined) return `after(${typeof delay === 'function' ? delay.name || 'delay' : String(delay)})`;
  return eventType === '' ? 'always' : formatEventType(eventType);
}

/**
 * Mermaid has no "from any state": a transition on the root is drawn from every top-level state that is
 * not final and not its own target.
 */
function sourcesOf(node: AnyStateNode, target: AnyStateNode): AnyStateNode[] {
  if (node.path.length > 0) return [node];
  return (Object.values(node.states) as AnyStateNode[]).filter((child) => child.type !== 'final' && child !== target);
}

function transitionLines(node: AnyStateNode, indent: string): string[] {
  const lines: string[] = [];
  const emit = (transition: AnyTransition, label: string) => {
    const guard = guardName(transition.guard);
    const text = guard ? `${label} [${guard}]` : label;
    const targets = transition.target?.length ? transition.target : transition.reenter ? [node] : [];
    for (const target of targets) {
      for (const source of sourcesOf(node, target))
        lines.push(`${indent}${nodeId(source)} --> ${nodeId(target)}: ${text}`);
    }
  };

  const delayed = new Set<unknown>();
  for (const transition of node.after as Array<AnyTransition & { delay: unknown }>) {
    delayed.add(transition);
    emit(transition, eventLabel(transition.eventType, transition.delay));
  }
  for (const [eventType, transitions] of node.transitions as Map<string, AnyTransition[]>) {
    for (const transition of transitions) {
      if (!delayed.has(transition) && !eventType.startsWith('xstate.after.')) emit(transition, eventLabel(eventType));
    }
  }
  for (const transition of (node.always ?? []) as AnyTransition[]) emit(transition, 'always');
  return lines;
}

function renderNode(node: AnyStateNode, indent: string): string[] {
  const lines: string[] = [];
  const children = Object.values(node.states) as AnyStateNode[];
  const id = nodeId(node);
  if (node.path.length > 0) {
    if (children.length === 0) {
      lines.push(`${indent}state "${node.key}" as ${id}`);
    } else {
      lines.push(`${indent}state "${node.key}" as ${id} {`);
    }
  }
  const inner = node.path.length > 0 && children.length > 0 ? `${indent}  ` : indent;
  if (children.length > 0) {
    if (node.type === 'parallel') {
      children.forEach((child, index) => {
        if (index > 0) lines.push(`${inner}--`);
        lines.push(...renderNode(child, inner));
      });
    } else {
      for (const target of (node.initial?.target ?? []) as AnyStateNode[])
        lines.push(`${inner}[*] --> ${nodeId(target)}`);
      for (const child of children) lines.push(...renderNode(child, inner));
      for (const child of children) {
        if (child.type === 'final') lines.push(`${inner}${nodeId(child)} --> [*]`);
      }
    }
  }
  if (node.path.length > 0 && children.length > 0) lines.push(`${indent}}`);
  if (node.path.length > 0) lines.push(...transitionLines(node, indent));
  for (const invoke of node.invoke as Array<{ src: unknown; id: string }>) {
    const name = typeof invoke.src === 'string' ? invoke.src : invoke.id;
    if (node.path.length > 0) lines.push(`${indent}note right of ${id}: invokes ${name}`);
  }
  return lines;
}

export function machineToMermaid(machine: AnyStateMachine): string {
  const root = machine.root as AnyStateNode;
  return ['stateDiagram-v2', ...renderNode(root, '  '), ...transitionLines(root, '  ')].join('\n');
}

export interface DocumentedMachine {
  title: string;
  file: string;
  machine: AnyStateMachine;
}

/** The whole `machines/README.md`: a section per machine with its description and generated diagram. */
export function renderMachinesReadme(machines: DocumentedMachine[]): string {
  const sections = machines.map(({ title, file, machine }) => {
    const description = (machine.root as AnyStateNode).description ?? '';
    return [
      `## ${title}`,
      '',
      `\`${file}\``,
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
    'Diagrams are Mermaid `stateDiagram-v2`: `after(name)` is a named delay, `[name]` a guard,',
    '`done(actor)` / `error(actor)` the result of an invoked actor, `always` an eventless transition.',
    '',
    ...sections,
  ].join('\n');
}
