/**
 * The life of one IRC connection (one server id).
 *
 * `socket` is the lifetime of one TCP connection: it invokes the injected `ircClient` actor, so leaving
 * it always tears that socket down. Inside it the connection is `connecting` (TCP + registration),
 * `registered` (on the network; rejoins its wanted channels on every entry) or `disconnecting` (QUIT
 * sent, bounded wait). A lost socket leads to `reconnecting`, which waits a capped exponential backoff
 * with jitter before the next `socket`. A fatal reply (a ban, a wrong password, no acceptable nickname) leads
 * to `failed`, which does not reconnect by itself but on a long, separate delay when one is configured, or
 * when the operator asks again. `stopped` is final.
 *
 * The machine is pure: the client comes in through `machine.provide({ actors: { ircClient } })`, time
 * is named delays, jitter is the injected `random` of the input, and contract events leave through
 * xstate's `emit` (subscribers use `actor.on('*', ...)`). Channel names arrive already folded.
 */
import { assertEvent, assign, emit, enqueueActions, fromCallback, sendTo, setup } from 'xstate';
import { backoffDelay } from '../src/shared/backoff.ts';
import type { IrcEvent } from '../src/shared/irc-events.ts';

export interface IrcConnectionSettings {
  host: string;
  port: number;
  tls: boolean;
  nickname: string;
  username?: string;
  realname?: string;
  password?: string;
}

export interface IrcConnectionTiming {
  /** First reconnect delay; each further attempt doubles it. */
  reconnectBaseMs: number;
  /** Cap of the reconnect delay. */
  reconnectMaxMs: number;
  /** Share of the delay taken off at random (0 = none, 0.5 = between half and all of it). */
  reconnectJitter: number;
  /** Registered this long without a drop, the backoff starts again from the base delay. */
  stableAfterMs: number;
  /** Longest wait from opening a socket to registration (covers a server that accepts and stays silent). */
  registrationTimeoutMs: number;
  /** Longest wait for the server to close the socket after our QUIT. */
  quitTimeoutMs: number;
  /** How often the client pings a registered server. */
  pingIntervalMs: number;
  /** Silence from the server after which the socket counts as dead. */
  pingTimeoutMs: number;
  /** Wait in `failed` before trying once more; null: only when the operator asks (bans are not retried by default). */
  failedRetryMs: number | null;
}

export const DEFAULT_IRC_CONNECTION_TIMING: IrcConnectionTiming = {
  reconnectBaseMs: 1_000,
  reconnectMaxMs: 60_000,
  reconnectJitter: 0.5,
  stableAfterMs: 10_000,
  registrationTimeoutMs: 30_000,
  quitTimeoutMs: 2_000,
  pingIntervalMs: 30_000,
  pingTimeoutMs: 60_000,
  failedRetryMs: null,
};

/** setTimeout's longest delay: the `failedRetry` timer when there is no retry (its guard refuses it anyway). */
const NEVER_MS = 2_147_483_647;

/** Delay before reconnect attempt `attempt` (1-based); `random` in [0, 1) supplies the jitter. */
export function reconnectDelayMs(attempt: number, timing: IrcConnectionTiming, random: number): number {
  const { reconnectBaseMs: baseMs, reconnectMaxMs: maxMs, reconnectJitter: jitter } = timing;
  return backoffDelay({ attempt, baseMs, maxMs, jitter, random });
}

/** What the invoked client receives from the machine. */
export type IrcClientCommand =
  | { type: 'JOIN'; channels: string[] }
  | { type: 'PART'; channel: string }
  | { type: 'NAMES'; channels: string[] }
  | { type: 'QUIT'; message: string };

/** What the invoked client reports about its socket; channel names folded. */
export type IrcClientEvent =
  | { type: 'REGISTERED'; nickname: string }
  | { type: 'CLOSED'; reason: string }
  | { type: 'CHANNEL_JOINED'; channel: string }
  | { type: 'CHANNEL_PARTED'; channel: string }
  | { type: 'NAMES'; channel: string; users: Array<{ nickname: string; modes: string }> }
  | { type: 'USER_JOINED'; channel: string; nickname: string }
  | { type: 'USER_PARTED'; channel: string; nickname: string }
  | { type: 'USER_QUIT'; nickname: string }
  | { type: 'NICK_CHANGED'; nickname: string; newNickname: string }
  /** A reply that retrying cannot fix (465 banned, 464 bad password, a K-line ERROR, no acceptable nickname). */
  | { type: 'FATAL'; reason: string; at: string };

export interface IrcClientInput {
  serverId: number;
  settings: IrcConnectionSettings;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

/** Commands from the owner of the actor (the registry). */
export type IrcConnectionCommand =
  | { type: 'CONFIGURE'; settings: IrcConnectionSettings; channels?: string[] }
  | { type: 'JOIN'; channel: string }
  | { type: 'PART'; channel: string }
  /** Tell the world again what this connection is in (after the web side lost track): `connected`, `joined`, `names`. */
  | { type: 'RESYNC' }
  /** An operator's Connect for a `failed` connection: try once more with the same settings. */
  | { type: 'RETRY' }
  | { type: 'STOP' };

export type IrcConnectionEvent = IrcConnectionCommand | IrcClientEvent;

export interface IrcConnectionInput {
  serverId: number;
  settings: IrcConnectionSettings;
  channels?: string[];
  timing?: Partial<IrcConnectionTiming>;
  /** Source of jitter in [0, 1); without it there is none, which keeps the machine deterministic. */
  random?: () => number;
}

export interface IrcConnectionContext {
  serverId: number;
  settings: IrcConnectionSettings;
  timing: IrcConnectionTiming;
  random: () => number;
  /** Channels the operator wants this connection in; joined again after every registration. */
  wantedChannels: string[];
  /** Channels the server confirmed for the current registration. */
  joinedChannels: string[];
  /** Reconnect attempts since the connection was last stable. */
  attempt: number;
  reconnectDelayMs: number;
  nickname: string | undefined;
  /** What `disconnecting` leads to: the end, or a new socket with (new) settings. */
  afterQuit: 'stop' | 'reconnect';
  /** Why the connection is (or last was) `failed`, and when (ISO time); cleared by the next registration. */
  failure: { message: string; at: string } | null;
}

const QUIT_MESSAGE = 'irc-supervisor: disconnecting';

function withChannel(channels: string[], channel: string): string[] {
  return channels.includes(channel) ? channels : [...channels, channel];
}

function withoutChannel(channels: string[], channel: string): string[] {
  return channels.includes(channel) ? channels.filter((name) => name !== channel) : channels;
}

function disconnectReason(event: IrcConnectionEvent | { type: string }): string {
  if ((event.type === 'CLOSED' || event.type === 'FATAL') && 'reason' in event) return event.reason;
  if (event.type === 'STOP') return 'disconnect requested';
  if (event.type === 'CONFIGURE') return 'settings changed';
  return 'connection lost';
}

export const ircConnectionMachine = setup({
  types: {
    context: {} as IrcConnectionContext,
    events: {} as IrcConnectionEvent,
    input: {} as IrcConnectionInput,
    emitted: {} as IrcEvent,
  },
  actors: {
    // Replaced where the app is assembled (src/irc-service) and by fakes in tests.
    ircClient: fromCallback<IrcClientCommand, IrcClientInput>(() => {
      throw new Error('ircConnectionMachine: provide the ircClient actor with machine.provide()');
    }),
  },
  delays: {
    reconnectDelay: ({ context }) => context.reconnectDelayMs,
    registrationTimeout: ({ context }) => context.timing.registrationTimeoutMs,
    quitTimeout: ({ context }) => context.timing.quitTimeoutMs,
    stableConnection: ({ context }) => context.timing.stableAfterMs,
    failedRetry: ({ context }) => context.timing.failedRetryMs ?? NEVER_MS,
  },
  guards: {
    stopAfterQuit: ({ context }) => context.afterQuit === 'stop',
    retriesAfterFailure: ({ context }) => context.timing.failedRetryMs !== null,
    sameServer: ({ context, event }) => event.type === 'CONFIGURE' && sameConnection(context.settings, event.settings),
    isJoined: ({ context, event }) =>
      (event.type === 'PART' || event.type === 'CHANNEL_PARTED') && context.joinedChannels.includes(event.channel),
  },
  actions: {
    applyConfiguration: assign(({ context, event }) => {
      if (event.type !== 'CONFIGURE') return {};
      return { settings: event.settings, wantedChannels: event.channels ?? context.wantedChannels };
    }),
    scheduleReconnect: assign(({ context }) => {
      const attempt = context.attempt + 1;
      return { attempt, reconnectDelayMs: reconnectDelayMs(attempt, context.timing, context.random()) };
    }),
    emitReconnecting: emit(({ context }) => ({
      type: 'reconnecting' as const,
      payload: { serverId: context.serverId, attempt: context.attempt, delayMs: context.reconnectDelayMs },
    })),
    resetAttempts: assign({ attempt: 0 }),
    recordRegistration: assign(({ event }) => {
      assertEvent(event, 'REGISTERED');
      return { nickname: event.nickname, failure: null };
    }),
    recordFailure: assign(({ event }) => {
      assertEvent(event, 'FATAL');
      return { failure: { message: event.reason.slice(0, 500), at: event.at } };
    }),
    // `failed` is entered by FATAL only
    emitFailed: emit(({ context, event }) => {
      assertEvent(event, 'FATAL');
      return {
        type: 'failed' as const,
        payload: { serverId: context.serverId, reason: event.reason.slice(0, 500), at: event.at },
      };
    }),
    emitConnected: emit(({ context }) => ({
      type: 'connected' as const,
      payload: { serverId: context.serverId, nickname: context.nickname ?? context.settings.nickname },
    })),
    emitDisconnected: emit(({ context, event }) => ({
      type: 'disconnected' as const,
      payload: { serverId: context.serverId, reason: disconnectReason(event).slice(0, 500) },
    })),
    forgetJoinedChannels: assign({ joinedChannels: [] }),
    joinWantedChannels: sendTo('client', ({ context }) => ({
      type: 'JOIN' as const,
      channels: context.wantedChannels,
    })),
    want: assign(({ context, event }) =>
      event.type === 'JOIN' ? { wantedChannels: withChannel(context.wantedChannels, event.channel) } : {},
    ),
    unwant: assign(({ context, event }) =>
      event.type === 'PART' ? { wantedChannels: withoutChannel(context.wantedChannels, event.channel) } : {},
    ),
    sendJoin: sendTo('client', ({ event }) => ({
      type: 'JOIN' as const,
      channels: event.type === 'JOIN' ? [event.channel] : [],
    })),
    sendPart: sendTo('client', ({ event }) => ({
      type: 'PART' as const,
      channel: event.type === 'PART' ? event.channel : '',
    })),
    /** A PUT with a channel list: join what is newly wanted, part what no longer is. */
    syncChannels: enqueueActions(({ context, enqueue }) => {
      const toJoin = context.wantedChannels.filter((channel) => !context.joinedChannels.includes(channel));
      if (toJoin.length > 0) enqueue.sendTo('client', { type: 'JOIN', channels: toJoin });
      for (const channel of context.joinedChannels) {
        if (!context.wantedChannels.includes(channel)) enqueue.sendTo('client', { type: 'PART', channel });
      }
    }),
    sendQuit: sendTo('client', { type: 'QUIT' as const, message: QUIT_MESSAGE }),
    /** `joined` again for every channel; fresh `names` follow from the network's answer to NAMES. */
    resyncChannels: enqueueActions(({ context, enqueue }) => {
      for (const channel of context.joinedChannels) {
        enqueue.emit({ type: 'joined' as const, payload: { serverId: context.serverId, channel } });
      }
      if (context.joinedChannels.length > 0) {
        enqueue.sendTo('client', { type: 'NAMES', channels: context.joinedChannels });
      }
    }),
    markStopping: assign({ afterQuit: 'stop' as const }),
    markReconnecting: assign({ afterQuit: 'reconnect' as const }),
    recordJoined: assign(({ context, event }) =>
      event.type === 'CHANNEL_JOINED' ? { joinedChannels: withChannel(context.joinedChannels, event.channel) } : {},
    ),
    recordParted: assign(({ context, event }) =>
      event.type === 'CHANNEL_PARTED' ? { joinedChannels: withoutChannel(context.joinedChannels, event.channel) } : {},
    ),
    recordNickChange: assign(({ context, event }) =>
      event.type === 'NICK_CHANGED' && event.nickname === context.nickname ? { nickname: event.newNickname } : {},
    ),
    emitJoined: emit(({ context, event }) => ({
      type: 'joined' as const,
      payload: { serverId: context.serverId, channel: event.type === 'CHANNEL_JOINED' ? event.channel : '' },
    })),
    emitParted: emit(({ context, event }) => ({
      type: 'parted' as const,
      payload: { serverId: context.serverId, channel: event.type === 'CHANNEL_PARTED' ? event.channel : '' },
    })),
    emitNames: emit(({ context, event }) => ({
      type: 'names' as const,
      payload:
        event.type === 'NAMES'
          ? { serverId: context.serverId, channel: event.channel, users: event.users }
          : { serverId: context.serverId, channel: '', users: [] },
    })),
    emitUserJoined: emit(({ context, event }) => ({
      type: 'user-joined' as const,
      payload:
        event.type === 'USER_JOINED'
          ? { serverId: context.serverId, channel: event.channel, nickname: event.nickname }
          : { serverId: context.serverId, channel: '', nickname: '' },
    })),
    emitUserParted: emit(({ context, event }) => ({
      type: 'user-parted' as const,
      payload:
        event.type === 'USER_PARTED'
          ? { serverId: context.serverId, channel: event.channel, nickname: event.nickname }
          : { serverId: context.serverId, channel: '', nickname: '' },
    })),
    emitUserQuit: emit(({ context, event }) => ({
      type: 'user-quit' as const,
      payload: { serverId: context.serverId, nickname: event.type === 'USER_QUIT' ? event.nickname : '' },
    })),
    emitNickChanged: emit(({ context, event }) => ({
      type: 'nick-changed' as const,
      payload:
        event.type === 'NICK_CHANGED'
          ? { serverId: context.serverId, nickname: event.nickname, newNickname: event.newNickname }
          : { serverId: context.serverId, nickname: '', newNickname: '' },
    })),
  },
}).createMachine({
  id: 'ircConnection',
  description:
    "The life of one IRC connection (one server id). `socket` is the lifetime of one TCP connection: it invokes the `ircClient` actor, so leaving it always tears that socket down. Inside it the connection is `connecting` (TCP and registration, bounded by `registrationTimeout`), `registered` (on the network; it joins its wanted channels on every entry) or `disconnecting` (QUIT sent, bounded by `quitTimeout`). A lost socket leads to `reconnecting`, which waits a capped exponential backoff with jitter (`reconnectDelay`) before the next `socket`; a connection registered for `stableConnection` starts the backoff over. A `CONFIGURE` with other settings opens a new socket (after a QUIT when registered); one with the same server only changes the channels. `STOP` ends in the final state `stopped`, after a QUIT when registered. A fatal reply (`FATAL`: banned, bad password, a K-line, no acceptable nickname) leads to `failed`, which keeps the reason and does not reconnect by itself, except after `failedRetry` when one is configured; an operator's Connect (`RETRY`, or a `CONFIGURE`) tries once more.",
  context: ({ input }) => ({
    serverId: input.serverId,
    settings: input.settings,
    timing: { ...DEFAULT_IRC_CONNECTION_TIMING, ...input.timing },
    random: input.random ?? (() => 0),
    wantedChannels: [...new Set(input.channels ?? [])],
    joinedChannels: [],
    attempt: 0,
    reconnectDelayMs: 0,
    nickname: undefined,
    afterQuit: 'stop',
    failure: null,
  }),
  initial: 'socket',
  // Wanted channels change in every state; only a registered connection also tells the server.
  on: {
    JOIN: { actions: 'want' },
    PART: { actions: 'unwant' },
  },
  states: {
    socket: {
      invoke: {
        id: 'client',
        src: 'ircClient',
        input: ({ context }) => ({
          serverId: context.serverId,
          settings: context.settings,
          pingIntervalMs: context.timing.pingIntervalMs,
          pingTimeoutMs: context.timing.pingTimeoutMs,
        }),
        // A client that crashes is a lost socket, never a half-alive actor.
        onError: { target: 'reconnecting' },
      },
      on: {
        CLOSED: { target: 'reconnecting' },
      },
      initial: 'connecting',
      states: {
        connecting: {
          after: { registrationTimeout: { target: '#ircConnection.reconnecting' } },
          on: {
            REGISTERED: { target: 'registered', actions: 'recordRegistration' },
            FATAL: { target: '#ircConnection.failed', actions: 'recordFailure' },
            // Not registered yet, so there is nobody to say QUIT to: a new socket with the new settings.
            CONFIGURE: [
              // a new channel list is joined on registration anyway
              { guard: 'sameServer', actions: 'applyConfiguration' },
              { target: '#ircConnection.socket', reenter: true, actions: ['applyConfiguration', 'resetAttempts'] },
            ],
            STOP: { target: '#ircConnection.stopped' },
          },
        },
        registered: {
          entry: ['emitConnected', 'joinWantedChannels'],
          exit: ['emitDisconnected', 'forgetJoinedChannels'],
          after: { stableConnection: { actions: 'resetAttempts' } },
          on: {
            CONFIGURE: [
              {
                // Same server, new channel list: no reconnect needed.
                guard: 'sameServer',
                actions: ['applyConfiguration', 'syncChannels'],
              },
              { target: 'disconnecting', actions: ['applyConfiguration', 'markReconnecting'] },
            ],
            STOP: { target: 'disconnecting', actions: 'markStopping' },
            FATAL: { target: '#ircConnection.failed', actions: 'recordFailure' },
            JOIN: { actions: ['want', 'sendJoin'] },
            PART: [{ guard: 'isJoined', actions: ['unwant', 'sendPart'] }, { actions: 'unwant' }],
            RESYNC: { actions: ['emitConnected', 'resyncChannels'] },
            CHANNEL_JOINED: { actions: ['recordJoined', 'emitJoined'] },
            CHANNEL_PARTED: [{ guard: 'isJoined', actions: ['recordParted', 'emitParted'] }],
            NAMES: { actions: 'emitNames' },
            USER_JOINED: { actions: 'emitUserJoined' },
            USER_PARTED: { actions: 'emitUserParted' },
            USER_QUIT: { actions: 'emitUserQuit' },
            NICK_CHANGED: { actions: ['recordNickChange', 'emitNickChanged'] },
          },
        },
        disconnecting: {
          entry: 'sendQuit',
          after: {
            quitTimeout: [
              { guard: 'stopAfterQuit', target: '#ircConnection.stopped' },
              { target: '#ircConnection.socket', reenter: true, actions: 'resetAttempts' },
            ],
          },
          on: {
            CLOSED: [
              { guard: 'stopAfterQuit', target: '#ircConnection.stopped' },
              { target: '#ircConnection.socket', reenter: true, actions: 'resetAttempts' },
            ],
            // A client that crashes while quitting has still ended its socket: a stop must stay a stop.
            'xstate.error.actor.client': [
              { guard: 'stopAfterQuit', target: '#ircConnection.stopped' },
              { target: '#ircConnection.socket', reenter: true, actions: 'resetAttempts' },
            ],
            // A PUT while quitting: connect again afterwards, with the settings it brings.
            CONFIGURE: { actions: ['applyConfiguration', 'markReconnecting'] },
            STOP: { actions: 'markStopping' },
          },
        },
      },
    },
    reconnecting: {
      entry: ['scheduleReconnect', 'emitReconnecting'],
      after: { reconnectDelay: { target: 'socket' } },
      on: {
        CONFIGURE: [
          { guard: 'sameServer', actions: 'applyConfiguration' },
          // new settings may well fix what failed: try them at once
          { target: 'socket', actions: ['applyConfiguration', 'resetAttempts'] },
        ],
        STOP: { target: 'stopped' },
      },
    },
    failed: {
      entry: 'emitFailed',
      // no retry by default: reconnect loops after a ban are how whole hosts get banned
      after: { failedRetry: { guard: 'retriesAfterFailure', target: 'socket', actions: 'resetAttempts' } },
      on: {
        RETRY: { target: 'socket', actions: 'resetAttempts' },
        CONFIGURE: { target: 'socket', actions: ['applyConfiguration', 'resetAttempts'] },
        STOP: { target: 'stopped' },
      },
    },
    stopped: {
      type: 'final',
    },
  },
});

/** Whether two settings reach the same server as the same user (so no reconnect is needed). */
export function sameConnection(a: IrcConnectionSettings, b: IrcConnectionSettings): boolean {
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.tls === b.tls &&
    a.nickname === b.nickname &&
    a.username === b.username &&
    a.realname === b.realname &&
    a.password === b.password
  );
}

export type IrcConnectionMachine = typeof ircConnectionMachine;
