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
 * Its context also keeps what an operator asks first: the state it is in and since when, the nickname in
 * use, the reconnect attempt and when the next one starts, and why it last failed (`lastError`, recorded
 * from what the client reports); every change of those leaves as one `connection-state` event.
 *
 * The machine is pure: the client comes in through `machine.provide({ actors: { ircClient } })`, time
 * is named delays, jitter is the injected `random` and the clock the injected `now` of the input, and
 * contract events leave through xstate's `emit` (subscribers use `actor.on('*', ...)`). Channel names
 * arrive already folded.
 */
import { assertEvent, assign, emit, enqueueActions, fromCallback, type SnapshotFrom, sendTo, setup } from 'xstate';
import { backoffDelay } from '../src/shared/backoff.ts';
import type { IrcEvent } from '../src/shared/irc-events.ts';
import type { ConnectionState } from '../src/shared/irc-service-contract.ts';
import { isoTime } from '../src/shared/iso-time.ts';

export interface IrcConnectionSettings {
  host: string;
  port: number;
  tls: boolean;
  nickname: string;
  username?: string;
  realname?: string;
  password?: string;
  /** Verify the server's certificate (trust store and name); false accepts a self-signed one. Default true. */
  tlsVerify?: boolean;
  /** SHA-256 of the server's certificate (lower-case hex, no colons): only that certificate is accepted. */
  tlsFingerprint?: string;
  /** Client certificate and key (PEM) for CertFP and SASL EXTERNAL. */
  clientCertificate?: string;
  clientKey?: string;
  sasl?: { mechanism: 'PLAIN'; account: string; password: string } | { mechanism: 'EXTERNAL' };
  /** A SASL failure is fatal (default true); false continues unauthenticated, the failure kept as lastError. */
  saslRequired?: boolean;
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

/**
 * A connection's timing, defaults filled in: one object per distinct `input.timing` (the registry passes the same one
 * to every connection) rather than a copy in each context (memory per connection, bench P5). Never mutated.
 */
const resolvedTimings = new WeakMap<Partial<IrcConnectionTiming>, IrcConnectionTiming>();
function resolvedTiming(timing: Partial<IrcConnectionTiming> | undefined): IrcConnectionTiming {
  if (timing === undefined) return DEFAULT_IRC_CONNECTION_TIMING;
  let resolved = resolvedTimings.get(timing);
  if (resolved === undefined) {
    resolved = { ...DEFAULT_IRC_CONNECTION_TIMING, ...timing };
    resolvedTimings.set(timing, resolved);
  }
  return resolved;
}

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
  /**
   * The socket ended; `reason` says how, as precisely as the client knows: the socket error
   * (`connect ECONNREFUSED 127.0.0.1:6667`), `Ping timeout (N ms)`, or the server's ERROR line.
   */
  | { type: 'CLOSED'; reason: string }
  /** The server refused something the connection needs, without closing (yet): `433 nickname in use: nick`, `465 …`. */
  | { type: 'SERVER_ERROR'; message: string }
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
  /** The clock, in ms since the epoch (`Date.now` where the app is assembled); 0 without it, which keeps the machine deterministic. */
  now?: () => number;
}

/** The states a connection reports, as dotted paths of the machine's states. */
export type IrcConnectionStateName =
  | 'socket.connecting'
  | 'socket.registered'
  | 'socket.disconnecting'
  | 'reconnecting'
  | 'failed'
  | 'stopped';

/** Why the connection last failed, and when (ms since the epoch). */
export interface IrcConnectionFailure {
  message: string;
  at: number;
}

/** How `lastError` words a socket that opened and was not registered in time. */
const REGISTRATION_TIMEOUT = 'Registration timeout';

/** Whether a failure message is the registration timeout's (metrics tell it apart from a close). */
export function isRegistrationTimeout(message: string): boolean {
  return message.startsWith(`${REGISTRATION_TIMEOUT} (`);
}

/** Longest failure message kept: enough for any IRC line, bounded whatever a server sends. */
const MAX_MESSAGE_LENGTH = 500;

export interface IrcConnectionContext {
  serverId: number;
  settings: IrcConnectionSettings;
  timing: IrcConnectionTiming;
  random: () => number;
  now: () => number;
  /** The state it is in (as the machine's dotted path) and since when (ms since the epoch). */
  state: IrcConnectionStateName;
  since: number;
  /** When the next reconnect attempt starts, while reconnecting; else null. */
  nextAttemptAt: number | null;
  /** The last failure of a socket; kept after a reconnect, so an operator still sees why it dropped. */
  lastError: IrcConnectionFailure | null;
  /** Channels the operator wants this connection in; joined again after every registration. */
  wantedChannels: string[];
  /** Channels the server confirmed for the current registration. */
  joinedChannels: string[];
  /** Channels whose JOIN is on its way but that are no longer wanted (a Part overtook it): parted once confirmed. */
  partWhenJoined: string[];
  /** Reconnect attempts since the connection was last stable. */
  attempt: number;
  reconnectDelayMs: number;
  /** The nickname in use on the network (the fallback one when ours was taken); undefined off the network. */
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

/** A failure as the contract carries it: one line (a server may send a NUL), bounded. */
function failure(message: string, at: number): IrcConnectionFailure {
  return { message: message.replace(/[\0\r\n]+/g, ' ').slice(0, MAX_MESSAGE_LENGTH), at };
}

/** The `connection-state` payload (and `GET /internal/irc/connections` entry) of a connection's context. */
export function connectionStateOf(context: IrcConnectionContext): ConnectionState {
  return {
    serverId: context.serverId,
    state: context.state,
    since: isoTime(context.since),
    nickname: context.nickname ?? null,
    attempt: context.attempt,
    nextAttemptAt: context.nextAttemptAt === null ? null : isoTime(context.nextAttemptAt),
    lastError: context.lastError && { message: context.lastError.message, at: isoTime(context.lastError.at) },
  };
}

const connectionSetup = setup({
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
    isOwnNickname: ({ context, event }) => event.type === 'NICK_CHANGED' && event.nickname === context.nickname,
    sameServer: ({ context, event }) => event.type === 'CONFIGURE' && sameConnection(context.settings, event.settings),
    isJoined: ({ context, event }) =>
      (event.type === 'PART' || event.type === 'CHANNEL_PARTED') && context.joinedChannels.includes(event.channel),
    isPartWhenJoined: ({ context, event }) =>
      event.type === 'CHANNEL_JOINED' && context.partWhenJoined.includes(event.channel),
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
      payload: {
        serverId: context.serverId,
        attempt: context.attempt,
        delayMs: context.reconnectDelayMs,
        ...(context.lastError ? { reason: context.lastError.message } : {}),
      },
    })),
    resetAttempts: assign({ attempt: 0 }),
    recordRegistration: assign(({ event }) => {
      assertEvent(event, 'REGISTERED');
      return { nickname: event.nickname, failure: null };
    }),
    // `failure` says why it is failed now (cleared by the next registration); `lastError` keeps it for the state
    recordFailure: assign(({ context, event }) => {
      assertEvent(event, 'FATAL');
      return {
        failure: { message: event.reason.slice(0, MAX_MESSAGE_LENGTH), at: event.at },
        lastError: failure(event.reason, context.now()),
      };
    }),
    // `failed` is entered by FATAL only
    emitFailed: emit(({ context, event }) => {
      assertEvent(event, 'FATAL');
      return {
        type: 'failed' as const,
        payload: { serverId: context.serverId, reason: event.reason.slice(0, 500), at: event.at },
      };
    }),
    /** A stable connection starts the backoff over; said only when there was an attempt to forget. */
    forgetAttempts: enqueueActions(({ context, enqueue }) => {
      if (context.attempt === 0) return;
      enqueue.assign({ attempt: 0 });
      enqueue.emit({ type: 'connection-state', payload: connectionStateOf({ ...context, attempt: 0 }) });
    }),
    /**
     * Entry of every state: which one (as its dotted path), since now, and when the next attempt starts
     * (reconnecting only; `scheduleReconnect` ran first). Then the change is told.
     */
    enterState: enqueueActions(({ context, enqueue }, params: { state: IrcConnectionStateName }) => {
      const now = context.now();
      const entered = {
        state: params.state,
        since: now,
        nextAttemptAt: params.state === 'reconnecting' ? now + context.reconnectDelayMs : null,
      };
      enqueue.assign(entered);
      enqueue.emit({ type: 'connection-state', payload: connectionStateOf({ ...context, ...entered }) });
    }),
    emitConnectionState: emit(({ context }) => ({
      type: 'connection-state' as const,
      payload: connectionStateOf(context),
    })),
    recordClosed: assign(({ context, event }) => {
      assertEvent(event, 'CLOSED');
      return { lastError: failure(event.reason, context.now()) };
    }),
    recordServerError: assign(({ context, event }) => {
      assertEvent(event, 'SERVER_ERROR');
      return { lastError: failure(event.message, context.now()) };
    }),
    recordRegistrationTimeout: assign(({ context }) => ({
      lastError: failure(`${REGISTRATION_TIMEOUT} (${context.timing.registrationTimeoutMs} ms)`, context.now()),
    })),
    // `xstate.error.actor.client` is not among the machine's declared events, so assertEvent cannot name it
    recordClientFailure: assign(({ context, event }) => {
      const error = (event as { error?: unknown }).error;
      return {
        lastError: failure(`client failed: ${error instanceof Error ? error.message : String(error)}`, context.now()),
      };
    }),
    forgetNickname: assign({ nickname: undefined }),
    emitConnected: emit(({ context }) => ({
      type: 'connected' as const,
      payload: { serverId: context.serverId, nickname: context.nickname ?? context.settings.nickname },
    })),
    emitDisconnected: emit(({ context, event }) => ({
      type: 'disconnected' as const,
      payload: { serverId: context.serverId, reason: disconnectReason(event).slice(0, 500) },
    })),
    forgetJoinedChannels: assign({ joinedChannels: [], partWhenJoined: [] }),
    /**
     * Before a JOIN, a PART or a new channel list while registered: a wanted channel not confirmed yet (its JOIN on its
     * way) that stops being wanted is to be parted once the server confirms it; one wanted again is not.
     */
    notePendingParts: assign(({ context, event }) => {
      const next =
        event.type === 'PART'
          ? withoutChannel(context.wantedChannels, event.channel)
          : event.type === 'JOIN'
            ? withChannel(context.wantedChannels, event.channel)
            : event.type === 'CONFIGURE' && event.channels
              ? event.channels
              : context.wantedChannels;
      const pending = context.wantedChannels.filter(
        (channel) =>
          !next.includes(channel) &&
          !context.joinedChannels.includes(channel) &&
          !context.partWhenJoined.includes(channel),
      );
      return { partWhenJoined: [...context.partWhenJoined.filter((channel) => !next.includes(channel)), ...pending] };
    }),
    forgetPartWhenJoined: assign(({ context, event }) =>
      event.type === 'CHANNEL_JOINED'
        ? { partWhenJoined: context.partWhenJoined.filter((channel) => channel !== event.channel) }
        : {},
    ),
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
      channel: event.type === 'PART' || event.type === 'CHANNEL_JOINED' ? event.channel : '',
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
    recordNickChange: assign(({ event }) => {
      assertEvent(event, 'NICK_CHANGED');
      return { nickname: event.newNickname };
    }),
    // the contract events a client report becomes: each action runs only on its own event
    emitJoined: emit(({ context, event }) => {
      assertEvent(event, 'CHANNEL_JOINED');
      return { type: 'joined' as const, payload: { serverId: context.serverId, channel: event.channel } };
    }),
    emitParted: emit(({ context, event }) => {
      assertEvent(event, 'CHANNEL_PARTED');
      return { type: 'parted' as const, payload: { serverId: context.serverId, channel: event.channel } };
    }),
    emitNames: emit(({ context, event }) => {
      assertEvent(event, 'NAMES');
      return {
        type: 'names' as const,
        payload: { serverId: context.serverId, channel: event.channel, users: event.users },
      };
    }),
    emitUserJoined: emit(({ context, event }) => {
      assertEvent(event, 'USER_JOINED');
      return {
        type: 'user-joined' as const,
        payload: { serverId: context.serverId, channel: event.channel, nickname: event.nickname },
      };
    }),
    emitUserParted: emit(({ context, event }) => {
      assertEvent(event, 'USER_PARTED');
      return {
        type: 'user-parted' as const,
        payload: { serverId: context.serverId, channel: event.channel, nickname: event.nickname },
      };
    }),
    emitUserQuit: emit(({ context, event }) => {
      assertEvent(event, 'USER_QUIT');
      return { type: 'user-quit' as const, payload: { serverId: context.serverId, nickname: event.nickname } };
    }),
    emitNickChanged: emit(({ context, event }) => {
      assertEvent(event, 'NICK_CHANGED');
      return {
        type: 'nick-changed' as const,
        payload: { serverId: context.serverId, nickname: event.nickname, newNickname: event.newNickname },
      };
    }),
  },
});

/** Where `disconnecting` goes once the old socket has ended: the end, or a new socket with (new) settings. */
const afterQuit = [
  { guard: 'stopAfterQuit', target: '#ircConnection.stopped' },
  { target: '#ircConnection.socket', reenter: true, actions: 'resetAttempts' },
] as const;

export const ircConnectionMachine = connectionSetup.createMachine({
  id: 'ircConnection',
  description:
    "The life of one IRC connection (one server id). `socket` is the lifetime of one TCP connection: it invokes the `ircClient` actor, so leaving it always tears that socket down. Inside it the connection is `connecting` (TCP and registration, bounded by `registrationTimeout`), `registered` (on the network; it joins its wanted channels on every entry) or `disconnecting` (QUIT sent, bounded by `quitTimeout`). A lost socket leads to `reconnecting`, which waits a capped exponential backoff with jitter (`reconnectDelay`) before the next `socket`; a connection registered for `stableConnection` starts the backoff over. A `CONFIGURE` with other settings opens a new socket (after a QUIT when registered); one with the same server only changes the channels. A channel parted while its JOIN was on its way (a `PART` that overtook it) is parted again once the server confirms it, and never told as joined. `STOP` ends in the final state `stopped`, after a QUIT when registered. Every state records on entry since when it holds, and the reason of a failure (`CLOSED`, `SERVER_ERROR`, `FATAL`, a crashed client, the registration timeout) is kept as `lastError`; each change of those leaves as a `connection-state` event. A fatal reply (`FATAL`: banned, bad password, a K-line, no acceptable nickname) leads to `failed`, which keeps the reason and does not reconnect by itself, except after `failedRetry` when one is configured; an operator's Connect (`RETRY`, or a `CONFIGURE`) tries once more.",
  context: ({ input }) => ({
    serverId: input.serverId,
    settings: input.settings,
    timing: resolvedTiming(input.timing),
    random: input.random ?? (() => 0),
    now: input.now ?? (() => 0),
    // set by the entry of the initial state
    state: 'socket.connecting',
    since: 0,
    nextAttemptAt: null,
    lastError: null,
    wantedChannels: [...new Set(input.channels ?? [])],
    joinedChannels: [],
    partWhenJoined: [],
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
        onError: { target: 'reconnecting', actions: 'recordClientFailure' },
      },
      // off the network, no nickname is in use
      exit: 'forgetNickname',
      on: {
        CLOSED: { target: 'reconnecting', actions: 'recordClosed' },
        SERVER_ERROR: { actions: ['recordServerError', 'emitConnectionState'] },
      },
      initial: 'connecting',
      states: {
        connecting: {
          entry: { type: 'enterState', params: { state: 'socket.connecting' } },
          after: {
            registrationTimeout: { target: '#ircConnection.reconnecting', actions: 'recordRegistrationTimeout' },
          },
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
          entry: [
            { type: 'enterState', params: { state: 'socket.registered' } },
            'emitConnected',
            'joinWantedChannels',
          ],
          exit: ['emitDisconnected', 'forgetJoinedChannels'],
          after: { stableConnection: { actions: 'forgetAttempts' } },
          on: {
            CONFIGURE: [
              {
                // Same server, new channel list: no reconnect needed.
                guard: 'sameServer',
                actions: ['notePendingParts', 'applyConfiguration', 'syncChannels'],
              },
              { target: 'disconnecting', actions: ['applyConfiguration', 'markReconnecting'] },
            ],
            STOP: { target: 'disconnecting', actions: 'markStopping' },
            FATAL: { target: '#ircConnection.failed', actions: 'recordFailure' },
            JOIN: { actions: ['notePendingParts', 'want', 'sendJoin'] },
            PART: [{ guard: 'isJoined', actions: ['unwant', 'sendPart'] }, { actions: ['notePendingParts', 'unwant'] }],
            RESYNC: { actions: ['emitConnected', 'resyncChannels'] },
            // A channel parted while its JOIN was still queued or on its way is left again once the server confirms it,
            // and never told as joined; any other join the server confirms is told (ours, or one it made for us).
            CHANNEL_JOINED: [
              { guard: 'isPartWhenJoined', actions: ['sendPart', 'forgetPartWhenJoined'] },
              { actions: ['recordJoined', 'emitJoined'] },
            ],
            CHANNEL_PARTED: [{ guard: 'isJoined', actions: ['recordParted', 'emitParted'] }],
            NAMES: { actions: 'emitNames' },
            USER_JOINED: { actions: 'emitUserJoined' },
            USER_PARTED: { actions: 'emitUserParted' },
            USER_QUIT: { actions: 'emitUserQuit' },
            NICK_CHANGED: [
              { guard: 'isOwnNickname', actions: ['recordNickChange', 'emitNickChanged', 'emitConnectionState'] },
              { actions: 'emitNickChanged' },
            ],
          },
        },
        disconnecting: {
          entry: [{ type: 'enterState', params: { state: 'socket.disconnecting' } }, 'sendQuit'],
          // Each way the quit ends (the server closes, a fatal reply to the QUIT such as a ban in its ERROR, a client
          // that crashes while quitting, or no answer in time): a stop stays a stop, else a new socket.
          after: { quitTimeout: afterQuit },
          on: {
            CLOSED: afterQuit,
            FATAL: afterQuit,
            'xstate.error.actor.client': afterQuit,
            // A PUT while quitting: connect again afterwards, with the settings it brings.
            CONFIGURE: { actions: ['applyConfiguration', 'markReconnecting'] },
            STOP: { actions: 'markStopping' },
          },
        },
      },
    },
    reconnecting: {
      entry: ['scheduleReconnect', 'emitReconnecting', { type: 'enterState', params: { state: 'reconnecting' } }],
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
      entry: [{ type: 'enterState', params: { state: 'failed' } }, 'emitFailed'],
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
      entry: { type: 'enterState', params: { state: 'stopped' } },
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
    a.password === b.password &&
    (a.tlsVerify ?? true) === (b.tlsVerify ?? true) &&
    a.tlsFingerprint === b.tlsFingerprint &&
    a.clientCertificate === b.clientCertificate &&
    a.clientKey === b.clientKey &&
    JSON.stringify(a.sasl) === JSON.stringify(b.sasl) &&
    (a.saslRequired ?? true) === (b.saslRequired ?? true)
  );
}

export type IrcConnectionMachine = typeof ircConnectionMachine;

/** A connection actor's snapshot (what its observers are told). */
export type IrcConnectionSnapshot = SnapshotFrom<IrcConnectionMachine>;
