/** The machines that machines/README.md documents, in the order it shows them. */
import type { AnyStateMachine } from 'xstate';
import { clusterSupervisorMachine } from './cluster-supervisor.machine.ts';
import { healthSupervisorMachine } from './health-supervisor.machine.ts';
import { ircConnectionMachine } from './irc-connection.machine.ts';

/** A machine as `machines/README.md` shows it: a section titled `title`, naming its `file`. */
export interface DocumentedMachine {
  title: string;
  file: string;
  machine: AnyStateMachine;
}

/**
 * The machines documented in `machines/README.md` (`npm run machines:diagram`), in the order they appear.
 * A new machine belongs here; its root config's `description` becomes its paragraph there.
 */
export const documentedMachines: DocumentedMachine[] = [
  { title: 'IRC connection', file: 'machines/irc-connection.machine.ts', machine: ircConnectionMachine },
  { title: 'Cluster supervisor', file: 'machines/cluster-supervisor.machine.ts', machine: clusterSupervisorMachine },
  {
    title: 'Health supervisor (one per node)',
    file: 'machines/health-supervisor.machine.ts',
    machine: healthSupervisorMachine,
  },
];
