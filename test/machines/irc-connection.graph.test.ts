import { getShortestPaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import {
  type IrcClientCommand,
  type IrcClientInput,
  type IrcConnectionEvent,
  ircConnectionMachine,
} from '../../machines/irc-connection.machine.ts';

const settings = { host: '127.0.0.1', port: 6667, tls: false, nickname: 'tester' };
const machine = ircConnectionMachine.provide({
  actors: { ircClient: fromCallback<IrcClientCommand, IrcClientInput>(() => {}) },
});

/** Delayed transitions are events named after their delay and state; the walk sends them like any other. */
const after = (delay: string, state: string) => ({ type: `xstate.after.${delay}.ircConnection.${state}` });

const events = [
  { type: 'REGISTERED', nickname: 'tester' },
  { type: 'CLOSED', reason: 'reset' },
  { type: 'STOP' },
  { type: 'CONFIGURE', settings: { ...settings, port: 6697 } },
  after('registrationTimeout', 'socket.connecting'),
  after('reconnectDelay', 'reconnecting'),
  after('quitTimeout', 'socket.disconnecting'),
] as unknown as IrcConnectionEvent[];

describe('ircConnection machine graph', () => {
  const paths = getShortestPaths(machine, {
    input: { serverId: 1, settings },
    events,
    // by value only: the attempt counter would make the walk endless
    serializeState: (snapshot) => JSON.stringify(snapshot.value),
  });
  const reached = paths.map((path) => JSON.stringify(path.state.value));

  it('reaches every state', () => {
    expect(new Set(reached)).toEqual(
      new Set(
        [
          { socket: 'connecting' },
          { socket: 'registered' },
          { socket: 'disconnecting' },
          'reconnecting',
          'stopped',
        ].map((value) => JSON.stringify(value)),
      ),
    );
  });

  it('can stop from every state, within the quit timeout at most', () => {
    for (const path of paths) {
      if (path.state.status === 'done') continue;
      const [afterStop] = getShortestPaths(machine, {
        fromState: path.state,
        events: [{ type: 'STOP' }, after('quitTimeout', 'socket.disconnecting')] as unknown as IrcConnectionEvent[],
        serializeState: (snapshot) => JSON.stringify(snapshot.value),
        toState: (snapshot) => snapshot.status === 'done',
      });
      expect(afterStop?.steps.length, JSON.stringify(path.state.value)).toBeLessThanOrEqual(3);
    }
  });
});
