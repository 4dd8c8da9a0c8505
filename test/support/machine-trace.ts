/** Records a machine's transitions for assertions, and on a failing test prints them and draws the path it took. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { onTestFailed } from 'vitest';
import type { AnyActor, AnyStateMachine, AnyTransitionDefinition, InspectionEvent } from 'xstate';
import { formatEventType, formatTransition, transitionInspector } from '../../src/machine-transitions.ts';
import { machineToMermaid, type TakenTransition } from '../../src/web/machines/machine-diagram.ts';
import { PROJECT_ROOT } from './process.ts';

export interface TransitionTrace {
  /** Pass as `createActor(machine, { inspect })`. */
  inspect: (event: InspectionEvent) => void;
  /** `from --EVENT--> to`, one line per transition that changed the state of the root actor. */
  lines: string[];
}

/** Where failing machine tests leave the diagrams of their paths. */
export const PATH_DIAGRAMS_DIR = join(PROJECT_ROOT, 'test-results', 'machines');

/** A path through a machine, leaf state by leaf state, as its root actor took it. */
export interface MachinePath {
  /** The machine the actor runs (with what `.provide()` gave it); undefined until the actor started. */
  machine: AnyStateMachine | undefined;
  /** The leaf states it started in, by dotted path (`socket.connecting`). */
  start: string[];
  /** Each move between two leaves, in order; an eventless move reads `always`. */
  steps: TakenTransition[];
  /** The leaf states it is in now. */
  current: string[];
}

/** The leaf states of a state value, by dotted path: `{ socket: 'registered' }` is `socket.registered`. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [`${prefix}${value}`];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) =>
    child && typeof child === 'object' && Object.keys(child).length === 0
      ? [`${prefix}${key}`]
      : leafPaths(child, `${prefix}${key}.`),
  );
}

const within = (leaf: string, node: string) => node === '' || leaf === node || leaf.startsWith(`${node}.`);

/**
 * Follows the root actor's microsteps (`@xstate.microstep` carries the transitions each one took), so
 * the path has every leaf-to-leaf move, eventless ones and those a single event chains included.
 */
export function pathRecorder(): { inspect: (event: InspectionEvent) => void; path: MachinePath } {
  const path: MachinePath = { machine: undefined, start: [], steps: [], current: [] };
  let started = false;
  const inspect = (event: InspectionEvent) => {
    if ((event.actorRef as { sessionId?: string }).sessionId !== event.rootId) return;
    if (event.type !== '@xstate.snapshot' && event.type !== '@xstate.microstep') return;
    const leaves = leafPaths((event.snapshot as { value?: unknown }).value);
    if (leaves.length === 0) return;
    if (!started) {
      started = true;
      path.machine = (event.actorRef as AnyActor).logic as AnyStateMachine;
      path.start = leaves;
      path.current = leaves;
      return;
    }
    if (event.type === '@xstate.microstep') {
      for (const transition of event._transitions as AnyTransitionDefinition[]) {
        const targets = transition.target?.length ? transition.target : transition.reenter ? [transition.source] : [];
        const source = transition.source.path.join('.');
        for (const target of targets.map((node) => node.path.join('.'))) {
          for (const from of path.current.filter((leaf) => within(leaf, source))) {
            for (const to of leaves.filter((leaf) => within(leaf, target))) {
              path.steps.push({
                source: from,
                target: to,
                event: transition.eventType === '' ? 'always' : formatEventType(transition.eventType),
              });
            }
          }
        }
      }
    }
    path.current = leaves;
  };
  return { inspect, path };
}

/** The Markdown a failing test leaves behind: the path as numbered steps, and on the machine's diagram. */
export function pathDiagramMarkdown(title: string, path: MachinePath): string {
  if (!path.machine) return `# ${title}\n\nThe actor never started: there is no path to draw.\n`;
  const visited = [...path.start, ...path.steps.flatMap((step) => [step.source, step.target])];
  const diagram = machineToMermaid(path.machine, {
    highlight: { visited, current: path.current, transitions: path.steps },
  });
  const steps = path.steps.map(
    (step, index) => `${index + 1}. ${formatTransition({ from: step.source, event: step.event, to: step.target })}`,
  );
  return [
    `# ${title}`,
    '',
    `The path machine \`${path.machine.id}\` took before the test failed, drawn on its diagram (generated from`,
    'the machine definition): the states it visited are marked `(visited)` and styled by the class `visited`,',
    'the one it ended in `(ended here)` and `current`, and each transition it took says at which steps.',
    '',
    `Started in ${path.start.map((leaf) => `\`${leaf}\``).join(', ')}.`,
    '',
    ...(steps.length > 0 ? steps : ['No transition was taken.']),
    '',
    '```mermaid',
    diagram,
    '```',
    '',
  ].join('\n');
}

/** A file name from a test's full name: letters, digits, `.`, `_` and `-`, the rest folded into `-`. */
export function pathDiagramFileName(testName: string): string {
  const safe = testName
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 150);
  return `${safe || 'machine'}.md`;
}

/** Writes the path's diagram for a test and answers where, relative to the project (what the message prints). */
export function writePathDiagram(testName: string, path: MachinePath, directory = PATH_DIAGRAMS_DIR): string {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, pathDiagramFileName(testName));
  writeFileSync(file, pathDiagramMarkdown(testName, path));
  return relative(PROJECT_ROOT, file);
}

/** How many traces each test made, so a second actor in the same test gets a file of its own. */
const tracesPerTest = new Map<string, number>();

/**
 * Records the transitions of a root actor through xstate's inspection API. When the current test fails it
 * prints them, and writes the path as a highlighted Mermaid diagram to `test-results/machines/<test name>.md`,
 * naming that file in what it prints.
 */
export function recordTransitions(label = 'machine'): TransitionTrace {
  const lines: string[] = [];
  const onTransition = transitionInspector((transition) => lines.push(formatTransition(transition)));
  const recorder = pathRecorder();
  const inspect = (event: InspectionEvent) => {
    onTransition(event);
    recorder.inspect(event);
  };
  onTestFailed(({ task }) => {
    const count = (tracesPerTest.get(task.id) ?? 0) + 1;
    tracesPerTest.set(task.id, count);
    const name = count === 1 ? task.fullTestName : `${task.fullTestName} (${label} ${count})`;
    const file = writePathDiagram(name, recorder.path);
    const where = `diagram of the path: ${file}`;
    console.log(`transitions of ${label}:\n  ${lines.join('\n  ') || '(none)'}\n  ${where}`);
    // the failure message itself says where, so a reader of the report alone finds the file
    const error = task.result?.errors?.[0];
    if (error && typeof error.message === 'string' && !error.message.includes(where)) {
      error.message += `\n${where}`;
    }
  });
  return { inspect, lines };
}
