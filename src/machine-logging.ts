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
