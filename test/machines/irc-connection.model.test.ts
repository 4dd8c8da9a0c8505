import { expect, vi } from 'vitest';
import { type AnyMachineSnapshot, createActor, type EventObject, fromCallback } from 'xstate';
import {
  connectionStateOf,
  type IrcClientCommand,
  type IrcClientEvent,
  type IrcClientInput,
  type IrcConnectionContext,
  ircConnectionMachine,
} from '../../machines/irc-connection.machine.ts';
import { connectionStateSchema } from '../../src/shared/irc-service-contract.ts';
import { recordTransitions } from '../support/machine-trace.ts';
import { settings, timing } from './irc-connection.fixtures.ts';
import {
  delayedEvents,
  delayOf,
  describeModelReplays,
  type ModelEvent,
  type ModelPath,
  modelPaths,
  statePathsOf,
} from './machine-model.ts';

/**
 * Model-based tests of the connection machine: @xstate/graph walks the machine to every state and takes
 * every transition out of each, and each path is replayed on a live actor with fake timers and a fake
 * client, checking the invariants after every step.
 */

const input = { serverId: 7, settings, channels: ['#alpha'], timing };

/** Events the client reports about its socket: the replay has the fake client send them. */
const CLIENT_EVENTS = new Set<string>([
  'REGISTERED',
  'CLOSED',
  'SERVER_ERROR',
  'CHANNEL_JOINED',
  'CHANNEL_PARTED',
  'NAMES',
  'USER_JOINED',
  'USER_PARTED',
  'USER_QUIT',
  'NICK_CHANGED',
  'FATAL',
]);

const CLIENT_ERROR = 'xstate.error.actor.client';

function events(snapshot: AnyMachineSnapshot): ModelEvent[] {
  const context = snapshot.context as IrcConnectionContext;
  const commands: ModelEvent[] = [
    { type: 'CONFIGURE', settings: context.settings },
    { type: 'CONFIGURE', settings: context.settings, channels: ['#beta'] },
    { type: 'CONFIGURE', settings: { ...context.settings, port: context.settings.port + 1 } },
    { type: 'JOIN', channel: '#gamma' },
    { type: 'PART', channel: '#alpha' },
    { type: 'RETRY' },
    { type: 'STOP' },
  ];
  // a client exists, and so can report, only while there is a socket
  const client: ModelEvent[] = snapshot.matches('socket')
    ? [
        { type: 'REGISTERED', nickname: 'tester' },
        { type: 'CLOSED', reason: 'Connection reset by peer' },
        { type: 'FATAL', reason: 'banned by the server (465)', at: '2026-12-03T07:00:00.000Z' },
        { type: 'SERVER_ERROR', message: '433 nickname in use: tester' },
        { type: CLIENT_ERROR, error: new Error('client crashed') },
      ]
    : [];
  const registered: ModelEvent[] = snapshot.matches({ socket: 'registered' })
    ? [
        { type: 'CHANNEL_JOINED', channel: '#alpha' },
        { type: 'CHANNEL_PARTED', channel: '#alpha' },
        { type: 'USER_JOINED', channel: '#alpha', nickname: 'bob' },
      ]
    : [];
  return [...commands, ...client, ...registered, ...delayedEvents(ircConnectionMachine, snapshot)];
}

/** Value, and in `disconnecting` where the QUIT leads (a stop or a new socket): the two behave differently. */
function serializeState(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as IrcConnectionContext;
  const afterQuit = snapshot.matches({ socket: 'disconnecting' }) ? context.afterQuit : '';
  return `${JSON.stringify(snapshot.value)}${afterQuit}`;
}

interface FakeSocket {
  report: (event: IrcClientEvent) => void;
  commands: IrcClientCommand[];
  open: boolean;
}

/** A live connection actor with a fake client that only does what the replay tells it. */
function liveConnection(label: string) {
  const sockets: FakeSocket[] = [];
  const ircClient = fromCallback<IrcClientCommand, IrcClientInput>(({ sendBack, receive }) => {
    const socket: FakeSocket = { report: sendBack, commands: [], open: true };
    sockets.push(socket);
    receive((command) => {
      if ((command as EventObject).type === 'CRASH') {
        // xstate runs no cleanup for a callback actor that failed: a client must release its own socket
        socket.open = false;
        throw new Error('client crashed');
      }
      socket.commands.push(command);
    });
    return () => {
      socket.open = false;
    };
  });
  const trace = recordTransitions(label);
  const actor = createActor(ircConnectionMachine.provide({ actors: { ircClient } }), { input, inspect: trace.inspect });
  actor.start();

  const openSockets = () => sockets.filter((socket) => socket.open);
  const snapshot = () => actor.getSnapshot();

  /** Makes the step happen the way it would for real: the client reports, time passes, or the owner sends. */
  function perform(event: EventObject) {
    const delay = delayOf(event);
    if (delay) {
      const ms: Record<string, number> = {
        reconnectDelay: snapshot().context.reconnectDelayMs,
        registrationTimeout: timing.registrationTimeoutMs,
        quitTimeout: timing.quitTimeoutMs,
        stableConnection: timing.stableAfterMs,
        failedRetry: timing.failedRetryMs ?? 0,
      };
      const wait = ms[delay];
      if (wait === undefined) throw new Error(`the replay does not know the delay ${delay}`);
      vi.advanceTimersByTime(wait);
    } else if (event.type === CLIENT_ERROR) {
      snapshot().children.client?.send({ type: 'CRASH' } as never);
    } else if (CLIENT_EVENTS.has(event.type)) {
      const socket = openSockets().at(-1);
      if (!socket) throw new Error(`no open socket to report ${event.type}`);
      socket.report(event as IrcClientEvent);
    } else {
      actor.send(event as never);
    }
  }

  return { actor, sockets, openSockets, snapshot, perform, trace };
}

type Live = ReturnType<typeof liveConnection>;

/** What must hold after every step, whatever the path. */
function checkInvariants(live: Live, where: string) {
  const snapshot = live.snapshot();
  expect(snapshot.status, where).not.toBe('error');
  // the state it reports is the state it is in, and a next attempt is announced only while waiting for it
  const context = snapshot.context as IrcConnectionContext;
  expect(context.state, where).toBe(statePathsOf(snapshot.value).at(-1));
  expect(context.nextAttemptAt !== null, where).toBe(snapshot.matches('reconnecting'));
  // what it reports always fits the wire contract
  expect(connectionStateSchema.safeParse(connectionStateOf(context)).error, where).toBeUndefined();
  // a nickname is in use only on the network
  expect(context.nickname !== undefined, where).toBe(
    snapshot.matches({ socket: 'registered' }) || snapshot.matches({ socket: 'disconnecting' }),
  );
  if (snapshot.matches('socket')) {
    // one socket at a time, and it is the invoked client's
    expect(live.openSockets(), where).toHaveLength(1);
    expect(snapshot.children.client, where).toBeDefined();
  } else {
    expect(live.openSockets(), where).toHaveLength(0);
    expect(snapshot.children.client, where).toBeUndefined();
  }
  if (snapshot.matches({ socket: 'registered' })) {
    // never registered without an open client
    expect(snapshot.children.client?.getSnapshot().status, where).toBe('active');
    expect(live.openSockets().at(-1)?.open, where).toBe(true);
  }
  if (snapshot.matches('reconnecting')) {
    // exactly the backoff timer is pending
    expect(vi.getTimerCount(), where).toBe(1);
  }
  if (snapshot.matches('failed')) {
    // the reason is kept, and the only timer is the long, separate retry (none is configured by default)
    expect((snapshot.context as IrcConnectionContext).failure?.message, where).toBeTruthy();
    expect(vi.getTimerCount(), where).toBe(1);
  }
  if (snapshot.matches('stopped')) {
    // released: no client, no socket, no timer
    expect(snapshot.status, where).toBe('done');
    expect(Object.keys(snapshot.children), where).toEqual([]);
    expect(
      live.sockets.every((socket) => !socket.open),
      where,
    ).toBe(true);
    expect(vi.getTimerCount(), where).toBe(0);
  }
}

const paths = modelPaths(ircConnectionMachine, { input, events, serializeState });

/** Replays one path on a live actor, checking it step by step; returns the state nodes the actor was in. */
function replay(path: ModelPath): Set<string> {
  const reached = new Set<string>(['socket']);
  const live = liveConnection('ircConnection');
  for (const value of statePathsOf(live.snapshot().value)) reached.add(value);
  checkInvariants(live, '(start)');

  path.steps.forEach((step, index) => {
    const where = `step ${index + 1}: ${step.event.type}`;
    live.perform(step.event);
    expect(live.snapshot().value, where).toEqual(step.value);
    for (const value of statePathsOf(live.snapshot().value)) reached.add(value);
    checkInvariants(live, where);
  });

  // from wherever the path ended, a STOP ends the connection within the quit timeout, releasing everything
  if (live.snapshot().status === 'active') {
    live.actor.send({ type: 'STOP' });
    vi.advanceTimersByTime(timing.quitTimeoutMs);
    expect(live.snapshot().value, 'after STOP').toBe('stopped');
    checkInvariants(live, 'after STOP');
  }
  live.actor.stop();
  return reached;
}

describeModelReplays('ircConnection machine, model-based', ircConnectionMachine, paths, replay);
