/** Renders machine states, events and transitions as short text for logs, traces and diagrams. */
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

/** `xstate.after.retryDelay.irc.reconnecting` reads as `after(retryDelay)`, `xstate.done.actor.check` as `done(check)`. */
export function formatEventType(type: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  if (after) return `after(${after[1]})`;
  const done = /^xstate\.done\.actor\.(.+)$/.exec(type);
  if (done) return `done(${done[1]})`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(type);
  if (error) return `error(${error[1]})`;
  if (type.startsWith('xstate.done.state.')) return 'done';
  return type;
}

export interface Transition {
  /** undefined for the first snapshot of the actor */
  from: string | undefined;
  event: string;
  to: string;
}

/** `checking --done(check)--> healthy`; the first snapshot reads `(start) --> checking`. */
export function formatTransition({ from, event, to }: Transition): string {
  return from === undefined ? `(start) --> ${to}` : `${from} --${event}--> ${to}`;
}

/**
 * An `inspect` callback for `createActor` that reports each change of the root actor's state
 * (children such as invoked clients and checks have states of their own and are left out).
 */
export function transitionInspector(onTransition: (transition: Transition) => void): (event: InspectionEvent) => void {
  let from: string | undefined;
  let started = false;
  return (event) => {
    if (event.type !== '@xstate.snapshot' || (event.actorRef as { sessionId?: string }).sessionId !== event.rootId) {
      return;
    }
    const value = (event.snapshot as { value?: unknown }).value;
    if (value === undefined) return;
    const to = formatStateValue(value);
    if (started && to === from) return;
    onTransition({ from: started ? from : undefined, event: formatEventType(event.event.type), to });
    started = true;
    from = to;
  };
}
