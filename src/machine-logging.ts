/** Logs state machine transitions when DEBUG_MACHINES is on. */
import type { InspectionEvent } from 'xstate';
import type { Logger } from './logger.ts';
import { formatTransition, transitionInspector } from './machine-transitions.ts';

/**
 * With DEBUG_MACHINES=1, an `inspect` callback that logs every transition of one actor with the fields
 * that identify it (the machine, a server id); otherwise undefined, so actors run uninspected.
 */
export function machineTransitionLogger(
  enabled: boolean,
  logger: Logger,
  fields: { machine: string; serverId?: number },
): ((event: InspectionEvent) => void) | undefined {
  if (!enabled) return undefined;
  return transitionInspector((transition) => logger.info({ ...fields, ...transition }, formatTransition(transition)));
}

/**
 * The same for a machine and the children it spawns (the cluster supervisor and one supervisor per node): each
 * actor's transitions logged with the fields `fieldsOf` gives for it (`actorId` null for the root), apart.
 */
export function machineTreeTransitionLogger(
  enabled: boolean,
  logger: Logger,
  fieldsOf: (actorId: string | null) => Record<string, unknown>,
): ((event: InspectionEvent) => void) | undefined {
  if (!enabled) return undefined;
  const inspectors = new Map<string, (event: InspectionEvent) => void>();
  return (event) => {
    const actor = event.actorRef as unknown as { sessionId: string; id: string };
    let inspect = inspectors.get(actor.sessionId);
    if (!inspect) {
      const fields = fieldsOf(actor.sessionId === event.rootId ? null : actor.id);
      inspect = transitionInspector((transition) =>
        logger.info({ ...fields, ...transition }, formatTransition(transition)),
      );
      inspectors.set(actor.sessionId, inspect);
    }
    // each actor is the root of its own trace
    inspect({ ...event, rootId: actor.sessionId });
  };
}
