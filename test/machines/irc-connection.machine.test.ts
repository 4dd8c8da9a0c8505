import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import {
  type IrcClientCommand,
  type IrcClientEvent,
  type IrcClientInput,
  type IrcConnectionInput,
  type IrcConnectionTiming,
  ircConnectionMachine,
  reconnectDelayMs,
} from '../../machines/irc-connection.machine.ts';
import type { IrcEvent, IrcEventPayload, IrcEventType } from '../../src/shared/irc-events.ts';
import { connectionStateSchema } from '../../src/shared/irc-service-contract.ts';
import { recordTransitions } from '../support/machine-trace.ts';
import { settings, timing } from './irc-connection.fixtures.ts';

/** One socket the machine opened through the fake client: what it was told, and a way to answer. */
interface FakeSocket {
  input: IrcClientInput;
  commands: IrcClientCommand[];
  report: (event: IrcClientEvent) => void;
  stopped: boolean;
}

/**
 * A fake irc-framework client: records every socket; a JOIN is confirmed at once, like a friendly server, unless
 * `joinsConfirmedLater` (the test then reports CHANNEL_JOINED itself, as a server's answer that takes its time).
 */
function fakeClient(options: { crashOnStart?: boolean; crashOnQuit?: boolean; joinsConfirmedLater?: boolean } = {}) {
  const sockets: FakeSocket[] = [];
  const logic = fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack, receive }) => {
    if (options.crashOnStart) throw new Error('client blew up');
    const socket: FakeSocket = { input, commands: [], report: sendBack, stopped: false };
    sockets.push(socket);
    receive((command) => {
      socket.commands.push(command);
      if (command.type === 'QUIT' && options.crashOnQuit) throw new Error('socket already gone');
      if (command.type === 'JOIN' && !options.joinsConfirmedLater) {
        for (const channel of command.channels) sendBack({ type: 'CHANNEL_JOINED', channel });
      }
    });
    return () => {
      socket.stopped = true;
    };
  });
  return {
    logic,
    sockets,
    get current(): FakeSocket {
      const socket = sockets.at(-1);
      if (!socket) throw new Error('no socket opened yet');
      return socket;
    },
  };
}

function startConnection(input: Partial<IrcConnectionInput> = {}, client = fakeClient()) {
  const trace = recordTransitions('ircConnection');
  const machine = ircConnectionMachine.provide({ actors: { ircClient: client.logic } });
  const actor = createActor(machine, {
    input: { serverId: 7, settings, timing, ...input },
    inspect: trace.inspect,
  });
  const emitted: IrcEvent[] = [];
  actor.on('*', (event) => emitted.push(event));
  actor.start();
  return { actor, client, emitted, trace, state: () => actor.getSnapshot().value };
}

function ofType<T extends IrcEventType>(events: IrcEvent[], type: T): IrcEventPayload<T>[] {
  return events.filter((event) => event.type === type).map((event) => event.payload as IrcEventPayload<T>);
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ircConnection machine', () => {
  it('starts connecting with its settings and the ping timing, and reports registration', () => {
    const { client, emitted, state } = startConnection({
      timing: { ...timing, pingIntervalMs: 500, pingTimeoutMs: 900 },
    });

    expect(state()).toEqual({ socket: 'connecting' });
    expect(client.current.input).toEqual({ serverId: 7, settings, pingIntervalMs: 500, pingTimeoutMs: 900 });

    client.current.report({ type: 'REGISTERED', nickname: 'tester' });

    expect(state()).toEqual({ socket: 'registered' });
    expect(ofType(emitted, 'connected')).toEqual([{ serverId: 7, nickname: 'tester' }]);
  });

  it('backs off exponentially up to the cap while the server refuses', () => {
    const { client, emitted, state } = startConnection();

    const waited: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      client.current.report({ type: 'CLOSED', reason: 'connect ECONNREFUSED' });
      expect(state()).toBe('reconnecting');
      const delay = ofType(emitted, 'reconnecting').at(-1)?.delayMs ?? -1;
      vi.advanceTimersByTime(delay - 1);
      expect(state()).toBe('reconnecting');
      vi.advanceTimersByTime(1);
      expect(state()).toEqual({ socket: 'connecting' });
      waited.push(delay);
    }

    expect(waited).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(ofType(emitted, 'reconnecting').map((event) => event.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(client.sockets).toHaveLength(7);
    expect(client.sockets.slice(0, -1).every((socket) => socket.stopped)).toBe(true);
  });

  it('takes jitter from the injected random source', () => {
    const { client, emitted } = startConnection({ timing: { ...timing, reconnectJitter: 0.5 }, random: () => 0.5 });

    client.current.report({ type: 'CLOSED', reason: 'refused' });
    vi.advanceTimersByTime(750);
    client.current.report({ type: 'CLOSED', reason: 'refused' });

    expect(ofType(emitted, 'reconnecting').map((event) => event.delayMs)).toEqual([750, 1_500]);
  });

  it('keeps every delay between the jittered floor and the cap', () => {
    const full = { ...(timing as IrcConnectionTiming), reconnectJitter: 0.5 };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (attempt, random) => {
          const delay = reconnectDelayMs(attempt, full, random);
          const exponential = Math.min(full.reconnectMaxMs, full.reconnectBaseMs * 2 ** (attempt - 1));
          return delay <= full.reconnectMaxMs && delay >= Math.floor(exponential * 0.5);
        },
      ),
    );
  });

  it('rejoins its wanted channels after a reconnect', () => {
    const { actor, client, emitted } = startConnection({ channels: ['#alpha'] });
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    actor.send({ type: 'JOIN', channel: '#beta' });
    expect(actor.getSnapshot().context.joinedChannels).toEqual(['#alpha', '#beta']);

    client.current.report({ type: 'CLOSED', reason: 'Connection reset by peer' });
    expect(ofType(emitted, 'disconnected')).toEqual([{ serverId: 7, reason: 'Connection reset by peer' }]);
    expect(actor.getSnapshot().context.joinedChannels).toEqual([]);
    vi.advanceTimersByTime(1_000);
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });

    expect(client.current.commands).toEqual([{ type: 'JOIN', channels: ['#alpha', '#beta'] }]);
    expect(actor.getSnapshot().context.joinedChannels).toEqual(['#alpha', '#beta']);
    expect(ofType(emitted, 'joined').map((event) => event.channel)).toEqual(['#alpha', '#beta', '#alpha', '#beta']);
    expect(ofType(emitted, 'connected')).toHaveLength(2);
  });

  it('remembers a join asked for while reconnecting and a part while registered', () => {
    const { actor, client } = startConnection({ channels: ['#alpha'] });
    client.current.report({ type: 'CLOSED', reason: 'refused' });
    actor.send({ type: 'JOIN', channel: '#beta' });
    vi.advanceTimersByTime(1_000);
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    actor.send({ type: 'PART', channel: '#alpha' });

    expect(client.current.commands).toEqual([
      { type: 'JOIN', channels: ['#alpha', '#beta'] },
      { type: 'PART', channel: '#alpha' },
    ]);
    expect(actor.getSnapshot().context.wantedChannels).toEqual(['#beta']);
  });

  it('parts a channel the server confirms after a Part overtook its JOIN, and never tells it joined', () => {
    const { actor, client, emitted } = startConnection(
      { channels: ['#alpha'] },
      fakeClient({ joinsConfirmedLater: true }),
    );
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    // the registration's JOIN is still queued or on its way: nothing to part yet
    actor.send({ type: 'PART', channel: '#alpha' });
    expect(client.current.commands).toEqual([{ type: 'JOIN', channels: ['#alpha'] }]);

    client.current.report({ type: 'CHANNEL_JOINED', channel: '#alpha' });

    expect(client.current.commands).toEqual([
      { type: 'JOIN', channels: ['#alpha'] },
      { type: 'PART', channel: '#alpha' },
    ]);
    expect(ofType(emitted, 'joined')).toEqual([]);
    expect(actor.getSnapshot().context.joinedChannels).toEqual([]);
    // a wanted channel confirmed later is joined as ever
    actor.send({ type: 'JOIN', channel: '#beta' });
    client.current.report({ type: 'CHANNEL_JOINED', channel: '#beta' });
    expect(ofType(emitted, 'joined')).toEqual([{ serverId: 7, channel: '#beta' }]);
  });

  it('parts a channel a new channel list dropped while its JOIN was on its way, and keeps one joined again meanwhile', () => {
    const { actor, client, emitted } = startConnection(
      { channels: ['#alpha', '#beta'] },
      fakeClient({ joinsConfirmedLater: true }),
    );
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    actor.send({ type: 'CONFIGURE', settings, channels: ['#beta'] });
    actor.send({ type: 'PART', channel: '#beta' });
    actor.send({ type: 'JOIN', channel: '#beta' });

    client.current.report({ type: 'CHANNEL_JOINED', channel: '#alpha' });
    client.current.report({ type: 'CHANNEL_JOINED', channel: '#beta' });

    expect(client.current.commands.filter((command) => command.type === 'PART')).toEqual([
      { type: 'PART', channel: '#alpha' },
    ]);
    expect(ofType(emitted, 'joined')).toEqual([{ serverId: 7, channel: '#beta' }]);
    expect(actor.getSnapshot().context.joinedChannels).toEqual(['#beta']);
  });

  it('stops for good when told to stop while reconnecting', () => {
    const { actor, client, state } = startConnection();
    client.current.report({ type: 'CLOSED', reason: 'refused' });
    expect(state()).toBe('reconnecting');

    actor.send({ type: 'STOP' });
    vi.advanceTimersByTime(60_000);

    expect(state()).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
    expect(client.sockets).toHaveLength(1);
  });

  it('sends QUIT and gives up waiting when the server never answers it', () => {
    const { actor, client, emitted, state } = startConnection();
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });

    actor.send({ type: 'STOP' });

    expect(state()).toEqual({ socket: 'disconnecting' });
    expect(client.current.commands).toContainEqual({ type: 'QUIT', message: expect.any(String) });
    expect(ofType(emitted, 'disconnected')).toEqual([{ serverId: 7, reason: 'disconnect requested' }]);
    vi.advanceTimersByTime(1_999);
    expect(state()).toEqual({ socket: 'disconnecting' });
    vi.advanceTimersByTime(1);
    expect(state()).toBe('stopped');
    expect(client.current.stopped).toBe(true);
  });

  it('stops as soon as the server closes the socket after QUIT', () => {
    const { actor, client, state } = startConnection();
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    actor.send({ type: 'STOP' });

    client.current.report({ type: 'CLOSED', reason: 'Closing Link' });

    expect(state()).toBe('stopped');
    expect(client.sockets).toHaveLength(1);
  });

  it('ends the quit at a fatal reply to the QUIT, without waiting for the quit timeout', () => {
    const { actor, client, state } = startConnection();
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    actor.send({ type: 'STOP' });

    // a K-line in the ERROR that answers the QUIT: the client reports it as the socket's one end
    client.current.report({ type: 'FATAL', reason: 'K-lined (ERROR): Closing Link', at: '2026-12-03T07:00:00.000Z' });

    expect(state()).toBe('stopped');
    expect(client.current.stopped).toBe(true);
  });

  it('gives up on a server that accepts the socket but never registers it', () => {
    const { client, emitted, state } = startConnection();

    vi.advanceTimersByTime(5_000);

    expect(state()).toBe('reconnecting');
    expect(client.current.stopped).toBe(true);
    expect(ofType(emitted, 'disconnected')).toEqual([]);
  });

  it('reconnects with new settings after a QUIT when the settings change', () => {
    const { actor, client, emitted, state } = startConnection({ channels: ['#alpha'] });
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    const moved = { ...settings, port: 6697, tls: true };

    actor.send({ type: 'CONFIGURE', settings: moved });
    expect(client.current.commands).toContainEqual({ type: 'QUIT', message: expect.any(String) });
    client.current.report({ type: 'CLOSED', reason: 'Closing Link' });

    expect(state()).toEqual({ socket: 'connecting' });
    expect(client.current.input.settings).toEqual(moved);
    expect(ofType(emitted, 'reconnecting')).toEqual([]);
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    expect(client.current.commands).toEqual([{ type: 'JOIN', channels: ['#alpha'] }]);
  });

  it('changes channels without reconnecting when only the channel list changes', () => {
    const { actor, client } = startConnection({ channels: ['#alpha', '#beta'] });
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });

    actor.send({ type: 'CONFIGURE', settings: { ...settings }, channels: ['#beta', '#gamma'] });

    expect(client.sockets).toHaveLength(1);
    expect(client.current.commands.slice(1)).toEqual([
      { type: 'JOIN', channels: ['#gamma'] },
      { type: 'PART', channel: '#alpha' },
    ]);
  });

  it('connects again when a PUT arrives while it is quitting', () => {
    const { actor, client, state } = startConnection();
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    actor.send({ type: 'STOP' });

    actor.send({ type: 'CONFIGURE', settings });
    vi.advanceTimersByTime(2_000);

    expect(state()).toEqual({ socket: 'connecting' });
    expect(client.sockets).toHaveLength(2);
  });

  it('starts the backoff over only once a connection has been stable', () => {
    const { client, emitted } = startConnection();
    client.current.report({ type: 'CLOSED', reason: 'refused' });
    vi.advanceTimersByTime(1_000);
    // registered, then killed at once (a ban after registration): the backoff keeps growing
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    client.current.report({ type: 'CLOSED', reason: 'K-lined' });
    vi.advanceTimersByTime(2_000);
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    vi.advanceTimersByTime(10_000);
    client.current.report({ type: 'CLOSED', reason: 'Ping timeout' });

    expect(ofType(emitted, 'reconnecting').map((event) => event.delayMs)).toEqual([1_000, 2_000, 1_000]);
  });

  it('treats a crashing client as a lost socket', () => {
    const { state, emitted } = startConnection({}, fakeClient({ crashOnStart: true }));

    expect(state()).toBe('reconnecting');
    expect(ofType(emitted, 'reconnecting')).toEqual([
      { serverId: 7, attempt: 1, delayMs: 1_000, reason: 'client failed: client blew up' },
    ]);
  });

  it('stays stopped when the client crashes while quitting', () => {
    const { actor, client, state } = startConnection({}, fakeClient({ crashOnQuit: true }));
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });

    actor.send({ type: 'STOP' });
    vi.advanceTimersByTime(60_000);

    expect(state()).toBe('stopped');
    expect(client.sockets).toHaveLength(1);
  });

  it('passes channel and user events on with its server id while registered', () => {
    const { actor, client, emitted } = startConnection();
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    actor.send({ type: 'JOIN', channel: '#alpha' });

    client.current.report({ type: 'NAMES', channel: '#alpha', users: [{ nickname: 'tester', modes: 'o' }] });
    client.current.report({ type: 'USER_JOINED', channel: '#alpha', nickname: 'bob' });
    client.current.report({ type: 'NICK_CHANGED', nickname: 'bob', newNickname: 'robert' });
    client.current.report({ type: 'USER_PARTED', channel: '#alpha', nickname: 'robert' });
    client.current.report({ type: 'USER_QUIT', nickname: 'carol' });
    client.current.report({ type: 'NICK_CHANGED', nickname: 'tester', newNickname: 'tester2' });
    client.current.report({ type: 'CHANNEL_PARTED', channel: '#alpha' });

    expect(emitted.filter((event) => event.type !== 'connection-state').map((event) => event.type)).toEqual([
      'connected',
      'joined',
      'names',
      'user-joined',
      'nick-changed',
      'user-parted',
      'user-quit',
      'nick-changed',
      'parted',
    ]);
    expect(emitted.every((event) => event.payload.serverId === 7)).toBe(true);
    expect(actor.getSnapshot().context.nickname).toBe('tester2');
    expect(actor.getSnapshot().context.joinedChannels).toEqual([]);
  });
});

describe('ircConnection machine, fatal replies', () => {
  const at = '2026-12-03T07:00:00.000Z';
  const noRetry = { ...timing, failedRetryMs: null };

  it('a ban while registering moves it to failed with the reason, and it never reconnects by itself', () => {
    const { actor, client, emitted, state } = startConnection({ timing: noRetry });

    client.current.report({ type: 'FATAL', reason: 'banned by the server (465): You are banned', at });

    expect(state()).toBe('failed');
    expect(actor.getSnapshot().context.failure).toEqual({ message: 'banned by the server (465): You are banned', at });
    expect(client.current.stopped).toBe(true);
    expect(ofType(emitted, 'failed')).toEqual([
      { serverId: 7, reason: 'banned by the server (465): You are banned', at },
    ]);
    // a day later: still one socket, no reconnect scheduled
    vi.advanceTimersByTime(24 * 60 * 60 * 1_000);
    expect(client.sockets).toHaveLength(1);
    expect(ofType(emitted, 'reconnecting')).toEqual([]);
  });

  it('a K-line while registered says disconnected with the reason, then failed', () => {
    const { client, emitted, state } = startConnection({ timing: noRetry });
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });

    client.current.report({ type: 'FATAL', reason: 'banned by the server: Closing Link: host (K-lined)', at });

    expect(state()).toBe('failed');
    expect(emitted.map((event) => event.type).filter((type) => type !== 'connection-state')).toEqual([
      'connected',
      'disconnected',
      'failed',
    ]);
    expect(ofType(emitted, 'disconnected')[0]?.reason).toBe('banned by the server: Closing Link: host (K-lined)');
  });

  it("an operator's RETRY tries exactly once more, and a registration clears the failure", () => {
    const { actor, client, state } = startConnection({ timing: noRetry });
    client.current.report({ type: 'FATAL', reason: 'the server refused the password (464)', at });

    actor.send({ type: 'RETRY' });

    expect(state()).toEqual({ socket: 'connecting' });
    expect(client.sockets).toHaveLength(2);
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    expect(actor.getSnapshot().context.failure).toBeNull();
  });

  it('new settings in failed try at once with them', () => {
    const { actor, client, state } = startConnection({ timing: noRetry });
    client.current.report({ type: 'FATAL', reason: 'the server refused the password (464)', at });

    actor.send({ type: 'CONFIGURE', settings: { ...settings, password: 'right' } });

    expect(state()).toEqual({ socket: 'connecting' });
    expect(client.current.input.settings.password).toBe('right');
  });

  it('with a failed-retry delay it tries once more after that delay, not before', () => {
    const { client, state } = startConnection({ timing: { ...timing, failedRetryMs: 3_600_000 } });
    client.current.report({ type: 'FATAL', reason: 'banned by the server (465)', at });

    vi.advanceTimersByTime(3_599_999);
    expect(state()).toBe('failed');
    vi.advanceTimersByTime(1);

    expect(state()).toEqual({ socket: 'connecting' });
    expect(client.sockets).toHaveLength(2);
  });

  it('a STOP in failed ends it', () => {
    const { actor, client } = startConnection({ timing: noRetry });
    client.current.report({ type: 'FATAL', reason: 'banned by the server (465)', at });

    actor.send({ type: 'STOP' });

    expect(actor.getSnapshot().status).toBe('done');
  });
});

describe('ircConnection machine: state and reason bookkeeping', () => {
  const T0 = Date.parse('2026-12-03T07:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();

  /** A connection whose clock is the fake timers' one, started at T0. */
  function startClocked(input: Partial<IrcConnectionInput> = {}) {
    vi.setSystemTime(T0);
    return startConnection({ now: () => Date.now(), ...input });
  }

  const states = (emitted: IrcEvent[]) => ofType(emitted, 'connection-state');

  it('starts connecting, since its start, with no nickname, attempt, next attempt or error', () => {
    const { actor, emitted } = startClocked();

    expect(states(emitted)).toEqual([
      {
        serverId: 7,
        state: 'socket.connecting',
        since: iso(T0),
        nickname: null,
        attempt: 0,
        nextAttemptAt: null,
        lastError: null,
      },
    ]);
    expect(actor.getSnapshot().context.state).toBe('socket.connecting');
  });

  it('a refused connect: reconnecting, attempt 1, the next attempt and the socket error, then connecting again', () => {
    const { client, emitted } = startClocked();
    vi.advanceTimersByTime(40);

    client.current.report({ type: 'CLOSED', reason: 'connect ECONNREFUSED 127.0.0.1:16668' });

    const error = { message: 'connect ECONNREFUSED 127.0.0.1:16668', at: iso(T0 + 40) };
    expect(states(emitted).at(-1)).toEqual({
      serverId: 7,
      state: 'reconnecting',
      since: iso(T0 + 40),
      nickname: null,
      attempt: 1,
      nextAttemptAt: iso(T0 + 1_040),
      lastError: error,
    });
    expect(ofType(emitted, 'reconnecting').at(-1)?.reason).toBe('connect ECONNREFUSED 127.0.0.1:16668');

    vi.advanceTimersByTime(1_000);

    expect(states(emitted).at(-1)).toEqual({
      serverId: 7,
      state: 'socket.connecting',
      since: iso(T0 + 1_040),
      nickname: null,
      attempt: 1,
      nextAttemptAt: null,
      lastError: error,
    });
    client.current.report({ type: 'CLOSED', reason: 'connect ECONNREFUSED 127.0.0.1:16668' });
    expect(states(emitted).at(-1)).toMatchObject({ state: 'reconnecting', attempt: 2, nextAttemptAt: iso(T0 + 3_040) });
  });

  it('a taken nickname: the 433 is the last error, and the fallback nickname is the one in use', () => {
    const { client, emitted } = startClocked();
    vi.advanceTimersByTime(10);

    client.current.report({ type: 'SERVER_ERROR', message: '433 nickname in use: tester' });
    expect(states(emitted).at(-1)).toMatchObject({
      state: 'socket.connecting',
      lastError: { message: '433 nickname in use: tester', at: iso(T0 + 10) },
    });
    vi.advanceTimersByTime(10);
    client.current.report({ type: 'REGISTERED', nickname: 'tester_' });

    expect(states(emitted).at(-1)).toEqual({
      serverId: 7,
      state: 'socket.registered',
      since: iso(T0 + 20),
      nickname: 'tester_',
      attempt: 0,
      nextAttemptAt: null,
      lastError: { message: '433 nickname in use: tester', at: iso(T0 + 10) },
    });
  });

  it('a ping timeout after registration: off the network, no nickname, the timeout as the reason', () => {
    const { client, emitted } = startClocked();
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    vi.advanceTimersByTime(5_000);

    client.current.report({ type: 'CLOSED', reason: 'Ping timeout (1000 ms)' });

    expect(states(emitted).at(-1)).toEqual({
      serverId: 7,
      state: 'reconnecting',
      since: iso(T0 + 5_000),
      nickname: null,
      attempt: 1,
      nextAttemptAt: iso(T0 + 6_000),
      lastError: { message: 'Ping timeout (1000 ms)', at: iso(T0 + 5_000) },
    });
  });

  it('a server that never registers the socket: the registration timeout is the reason', () => {
    const { emitted } = startClocked();

    vi.advanceTimersByTime(5_000);

    expect(states(emitted).at(-1)).toMatchObject({
      state: 'reconnecting',
      lastError: { message: 'Registration timeout (5000 ms)', at: iso(T0 + 5_000) },
    });
  });

  it('a crashing client: its error is the reason', () => {
    vi.setSystemTime(T0);
    const { emitted } = startConnection({ now: () => Date.now() }, fakeClient({ crashOnStart: true }));

    expect(states(emitted).at(-1)).toMatchObject({
      state: 'reconnecting',
      lastError: { message: 'client failed: client blew up' },
    });
  });

  it('a long ERROR line is kept to 500 characters, and a reason to one line', () => {
    const { client, emitted } = startClocked();

    client.current.report({ type: 'CLOSED', reason: `ERROR :Closing Link: ${'x'.repeat(1_000)}` });
    expect(states(emitted).at(-1)?.lastError?.message).toHaveLength(500);
    vi.advanceTimersByTime(1_000);
    client.current.report({ type: 'SERVER_ERROR', message: '465 banned\0\r\nPRIVMSG #x :hi' });

    expect(states(emitted).at(-1)?.lastError?.message).toBe('465 banned PRIVMSG #x :hi');
    expect(states(emitted).every((state) => connectionStateSchema.safeParse(state).success)).toBe(true);
  });

  it('a stable connection tells that its attempts start over, and only when there were some', () => {
    const { client, emitted } = startClocked();
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    vi.advanceTimersByTime(10_000);
    // registered at the first try: a stable stretch changes nothing and says nothing
    expect(states(emitted).map((state) => state.state)).toEqual(['socket.connecting', 'socket.registered']);
    client.current.report({ type: 'CLOSED', reason: 'Ping timeout (1000 ms)' });
    vi.advanceTimersByTime(1_000);
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    expect(states(emitted).at(-1)).toMatchObject({ state: 'socket.registered', attempt: 1 });
    const before = states(emitted).length;

    vi.advanceTimersByTime(10_000);

    expect(states(emitted).slice(before)).toEqual([
      expect.objectContaining({ state: 'socket.registered', since: iso(T0 + 11_000), attempt: 0 }),
    ]);
  });

  it('tells its own nickname change, and nothing for channel traffic or other users', () => {
    const { actor, client, emitted } = startClocked({ channels: ['#alpha'] });
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    const before = states(emitted).length;

    client.current.report({ type: 'NAMES', channel: '#alpha', users: [{ nickname: 'tester', modes: '' }] });
    client.current.report({ type: 'USER_JOINED', channel: '#alpha', nickname: 'bob' });
    client.current.report({ type: 'NICK_CHANGED', nickname: 'bob', newNickname: 'robert' });
    actor.send({ type: 'RESYNC' });
    expect(states(emitted)).toHaveLength(before);

    client.current.report({ type: 'NICK_CHANGED', nickname: 'tester', newNickname: 'tester2' });

    expect(states(emitted).slice(before)).toEqual([
      expect.objectContaining({ state: 'socket.registered', nickname: 'tester2' }),
    ]);
  });

  it('a requested stop: disconnecting, then stopped; the QUIT answer is no error', () => {
    const { actor, client, emitted } = startClocked();
    client.current.report({ type: 'REGISTERED', nickname: 'tester' });
    vi.advanceTimersByTime(100);

    actor.send({ type: 'STOP' });
    vi.advanceTimersByTime(50);
    client.current.report({ type: 'CLOSED', reason: 'ERROR :Closing connection' });

    expect(states(emitted).map(({ state, nickname }) => [state, nickname])).toEqual([
      ['socket.connecting', null],
      ['socket.registered', 'tester'],
      ['socket.disconnecting', 'tester'],
      ['stopped', null],
    ]);
    expect(states(emitted).at(-1)).toMatchObject({ since: iso(T0 + 150), lastError: null });
  });
});
