/** A socketless IRC client actor, so a benchmark measures the registry and nothing else. */
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientInput } from '../../machines/irc-connection.machine.ts';

/** A client actor that registers at once and never touches a socket: the registry's own cost alone. */
export const instantlyRegisteredClient = fromCallback<IrcClientCommand, IrcClientInput>(
  ({ input, sendBack, receive }) => {
    sendBack({ type: 'REGISTERED', nickname: input.settings.nickname });
    receive((command) => {
      if (command.type === 'QUIT') sendBack({ type: 'CLOSED', reason: 'quit' });
    });
  },
);
