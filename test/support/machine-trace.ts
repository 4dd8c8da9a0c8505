/** Records a machine's transitions as readable lines for assertions. */
import { onTestFailed } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { formatTransition, transitionInspector } from '../../src/machine-transitions.ts';

export interface TransitionTrace {
  /** Pass as `createActor(machine, { inspect })`. */
  inspect: (event: InspectionEvent) => void;
  /** `from --EVENT--> to`, one line per transition that changed the state of the root actor. */
  lines: string[];
}

/**
 * Records the transitions of a root actor through xstate's inspection API and prints them when the
 * current test fails, so a failing machine test shows how the machine moved.
 */
export function recordTransitions(label = 'machine'): TransitionTrace {
  const lines: string[] = [];
  const inspect = transitionInspector((transition) => lines.push(formatTransition(transition)));
  onTestFailed(() => {
    console.log(`transitions of ${label}:\n  ${lines.join('\n  ') || '(none)'}`);
  });
  return { inspect, lines };
}
