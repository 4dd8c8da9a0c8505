import { onTestFailed } from 'vitest';
import type { InspectionEvent } from 'xstate';

/** Renders a state value as `parent.child` (parallel regions joined with `|`). */
export function formatStateValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, child]) => {
        const inner = formatStateValue(child);
        return inner ? `${key}.${inner}` : key;
      })
      .join('|');
  }
  return String(value);
}

/** `xstate.after.retryDelay.irc.reconnecting` reads as `after(retryDelay)`; other events keep their type. */
export function formatEventType(type: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  if (after) return `after(${after[1]})`;
  const done = /^xstate\.done\.actor\.(.+)$/.exec(type);
  if (done) return `done(${done[1]})`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(type);
  if (error) return `error(${error[1]})`;
  return type;
}

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
  let before: string | undefined;
  const inspect = (event: InspectionEvent) => {
    // only the root actor: children (invoked clients, checks) have states of their own
    if (event.type !== '@xstate.snapshot' || (event.actorRef as { sessionId?: string }).sessionId !== event.rootId) {
      return;
    }
    const snapshot = event.snapshot as { value?: unknown; status?: string };
    if (snapshot.value === undefined) return;
    const next = formatStateValue(snapshot.value);
    if (before === undefined) lines.push(`(start) --> ${next}`);
    else if (before !== next) lines.push(`${before} --${formatEventType(event.event.type)}--> ${next}`);
    before = next;
  };
  onTestFailed(() => {
    console.log(`transitions of ${label}:\n  ${lines.join('\n  ') || '(none)'}`);
  });
  return { inspect, lines };
}
