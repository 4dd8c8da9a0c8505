/**
 * The one place that speaks irc-framework: one client, one socket, for as long as the connection
 * machine stays in its `socket` state. irc-framework's own reconnect is off (it gives up too early and
 * never rejoins its channels); a closed socket is reported once as CLOSED, with the most precise reason
 * known (ping timeout, the server's ERROR line, the socket error), and the machine decides what comes
 * next. Stopping the actor destroys the socket without waiting for anyone.
 *
 * Networks as they are: a refused nickname (433, 432, 436, 437) is reported as SERVER_ERROR (so an operator
 * sees why) and replaced by a fallback that fits the network's NICKLEN; once registered under a fallback the
 * wanted nickname is taken back when it frees; a reply that retrying cannot fix (465, 464, a K-line ERROR,
 * no acceptable nickname, a refused certificate, a SASL failure unless `saslRequired` is false) is reported as
 * FATAL; every line written waits its turn in the connection's token bucket (send-queue.ts).
 */
import IRC, { type ClientEvents } from 'irc-framework';
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientEvent, IrcClientInput } from '../../machines/irc-connection.machine.ts';
import type { Logger } from '../logger.ts';
import { normalizeChannelName } from '../shared/irc-events.ts';
import { parseNicklen } from '../shared/nicknames.ts';
import { pingTimeoutReason, SERVER_CLOSED_REASON, serverErrorReason } from './close-reasons.ts';
import type { ConnectThrottle } from './connect-throttle.ts';
import { bannedWithError, fatalErrorLine } from './fatal-replies.ts';
import { joinLines, joinTargetLimit } from './join-lines.ts';
import { NicknameFallbacks } from './nickname-fallbacks.ts';
import { NicknameRegain } from './nickname-regain.ts';
import { type SaslFailureEvent, saslAbortedLine, saslFailureReason } from './sasl-failures.ts';
import { DEFAULT_FLOOD_CONTROL, SendQueue } from './send-queue.ts';
import { certificateFailure, fingerprintMismatch } from './tls-checks.ts';

export interface IrcClientActorOptions {
  /** Per-host limit of connects in flight; the slot is held until registration or close. */
  throttle: ConnectThrottle;
  logger?: Logger;
  /** Flood control: lines a connection may write at once (`IRC_SEND_BURST`). */
  sendBurst?: number;
  /** Flood control: then one line each this many ms (`IRC_SEND_INTERVAL_MS`). */
  sendIntervalMs?: number;
  /** Registered under a fallback on a network without MONITOR: how often ISON asks whether the wanted nickname is free. */
  nickRegainIntervalMs?: number;
  /** The clock for `FATAL`'s time; Date.now by default. */
  now?: () => number;
}

const DEFAULT_NICK_REGAIN_INTERVAL_MS = 60_000;

/** Lines that skip flood control's queue (see send-queue.ts). */
const URGENT_COMMANDS = new Set(['PING', 'PONG', 'QUIT']);

/** Nickname refusals before registration that a fallback may fix: taken, collision, temporarily unavailable. */
const NICKNAME_TAKEN_NUMERICS = new Set(['436', '437']);

/** How long a 465 waits for the ERROR (or close) that says why before the connection is failed without it. */
const BANNED_GRACE_MS = 1_000;

/** Pause between two NAMES requests of a resync, so a connection in many channels never floods its server. */
const NAMES_PACE_MS = 250;

/** The slot's release before the throttle has answered. */
const NOTHING = (): void => undefined;

/** Someone left a channel (a PART, or a KICK of them): us, or another user. */
function channelLeft(name: string, nickname: string, mine: boolean): IrcClientEvent {
  const channel = normalizeChannelName(name);
  return mine ? { type: 'CHANNEL_PARTED', channel } : { type: 'USER_PARTED', channel, nickname };
}

export function createIrcClientActor(options: IrcClientActorOptions) {
  const { throttle } = options;
  return fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack, receive }) => {
    const { settings } = input;
    const report: (event: IrcClientEvent) => void = sendBack;
    const client = new IRC.Client();
    let finished = false;
    let registered = false;
    let pingTimedOut = false;
    const now = options.now ?? Date.now;
    // made on the first refusal only: most connections never need one (memory per connection, bench P5)
    let nicknames: NicknameFallbacks | undefined;
    const sendQueue = new SendQueue({
      burst: options.sendBurst ?? DEFAULT_FLOOD_CONTROL.burst,
      intervalMs: options.sendIntervalMs ?? DEFAULT_FLOOD_CONTROL.intervalMs,
      // the socket's own write, called once a line's token is there
      write: client.connection.write.bind(client.connection),
    });
    // A pinned certificate is compared at the first write (the TLS handshake is over by then, and irc-framework's
    // net transport offers no checkServerIdentity), so an impostor never sees a line, not even PASS.
    let peerChecked = settings.tlsFingerprint === undefined;
    let peerRefused = false;
    // Every line irc-framework writes (registration, PONG, QUIT, ours through raw()) passes the token bucket.
    client.connection.write = (line: string, done?: () => void) => {
      if (!peerChecked && settings.tlsFingerprint !== undefined) {
        peerChecked = true;
        const mismatch = fingerprintMismatch(client.connection.transport?.socket, settings.tlsFingerprint);
        if (mismatch !== undefined) {
          peerRefused = true;
          fail(mismatch);
        }
      }
      if (peerRefused) return true;
      const space = line.indexOf(' ');
      const command = (space === -1 ? line : line.slice(0, space)).toUpperCase();
      // a late PING or PONG is a ping timeout, and after QUIT nothing queued matters
      if (command === 'QUIT') sendQueue.discardPending();
      if (URGENT_COMMANDS.has(command)) sendQueue.sendUrgent(line, done);
      else sendQueue.send(line, done);
      return true;
    };
    let regain: NicknameRegain | undefined;
    /** The server's ERROR line: it says why the server is about to close the socket (a K-line, a kill). */
    let serverError: string | undefined;
    /** The SASL mechanisms the server listed in a 908. */
    let saslOffered: string | undefined;
    /** A 465's reason, held until the ERROR that usually follows says why (or the socket closes without one). */
    let banned: string | undefined;
    /** A server that sends a 465 and neither an ERROR nor a close: failed all the same, after a moment. */
    let bannedTimer: NodeJS.Timeout | undefined;
    const namesQueue: string[] = [];
    let namesTimer: NodeJS.Timeout | undefined;

    /**
     * The actor's own steps, as the methods of one object rather than named consts or function declarations: tsx
     * compiles with esbuild's `keepNames`, which names each such function with `Object.defineProperty` every time
     * it is created, and that gives the closure a property store of its own, about 256 B per function per
     * connection (memory per connection, bench P5 and test/bench/RESULTS.md). Methods are left as they are.
     */
    const steps = {
      /** Sends the queued NAMES one at a time, paced. */
      drainNames(): void {
        const channel = namesQueue.shift();
        namesTimer = undefined;
        if (channel === undefined || finished) return;
        client.raw('NAMES', channel);
        if (namesQueue.length > 0) namesTimer = setTimeout(drainNames, NAMES_PACE_MS);
      },

      isMe(nickname: string): boolean {
        return client.caseCompare(nickname, client.user.nick);
      },

      /** Before registration, a refused nickname is replaced by the next fallback, or registration fails. */
      nicknameRefused(refused: string, why: 'taken' | 'erroneous'): void {
        if (registered) return;
        nicknames ??= new NicknameFallbacks(settings.nickname);
        const next = nicknames.next(refused, why);
        if (next === undefined) fail(nicknames.exhaustedReason());
        else client.changeNick(next);
      },

      // 904 and its kin: fatal unless the server's settings allow continuing unauthenticated
      saslFailed(event: SaslFailureEvent): void {
        const offered =
          event.reason === 'unsupported_mechanism' ? client.network.cap.available.get('sasl') : saslOffered;
        const reason = saslFailureReason(event, settings.sasl?.mechanism ?? 'PLAIN', offered);
        if (settings.saslRequired === false) report({ type: 'SERVER_ERROR', message: reason });
        else fail(reason);
      },

      /**
       * The client's events this actor acts on, in one function called after irc-framework's own listeners (the
       * order `client.on` gave). One function rather than a listener each: every listener costs an eventemitter3
       * record and a closure, about 1.3 KiB per connection in all (memory per connection, bench P5).
       */
      onClientEvent(name: string, args: unknown[]) {
        switch (name) {
          case 'registered': {
            const [event] = args as ClientEvents['registered'];
            registered = true;
            releaseSlot();
            report({ type: 'REGISTERED', nickname: event.nick });
            return;
          }
          // irc-framework ends the negotiation on a 906 (aborted) without a word: SASL connections read that line
          // themselves, until registration
          case 'raw': {
            if (settings.sasl === undefined || registered) return;
            const [event] = args as ClientEvents['raw'];
            const aborted = event.from_server ? saslAbortedLine(event.line) : undefined;
            if (aborted !== undefined) saslFailed(aborted);
            return;
          }
          case 'nick in use': {
            const [event] = args as ClientEvents['nick in use'];
            if (!registered) report({ type: 'SERVER_ERROR', message: `433 nickname in use: ${event.nick}` });
            return nicknameRefused(event.nick, 'taken');
          }
          case 'nick invalid': {
            const [event] = args as ClientEvents['nick invalid'];
            if (!registered) report({ type: 'SERVER_ERROR', message: `432 erroneous nickname: ${event.nick}` });
            return nicknameRefused(event.nick, 'erroneous');
          }
          case 'unknown command': {
            const [command] = args as ClientEvents['unknown command'];
            // 908 (RPL_SASLMECHS): the mechanisms the server offers, just before its 904
            if (command.command === '908') saslOffered = command.params[1];
            if (!NICKNAME_TAKEN_NUMERICS.has(command.command)) return;
            const nick = command.params[1] ?? '';
            if (!registered)
              report({ type: 'SERVER_ERROR', message: `${command.command} nickname unavailable: ${nick}` });
            return nicknameRefused(nick, 'taken');
          }
          // ISUPPORT has arrived by the end of the MOTD: now we know NICKLEN and whether MONITOR is offered.
          case 'motd': {
            if (regain || client.caseCompare(client.user.nick, settings.nickname)) return;
            const nicklen = parseNicklen(client.network.supports('NICKLEN'));
            // a wanted nickname longer than the network allows can never be taken back
            if (nicklen !== undefined && settings.nickname.length > nicklen) return;
            regain = new NicknameRegain({
              wanted: settings.nickname,
              sameNickname: (a, b) => client.caseCompare(a, b),
              send: (line) => client.connection.write(line),
              monitor: client.network.supports('MONITOR') !== undefined,
              isonIntervalMs: options.nickRegainIntervalMs ?? DEFAULT_NICK_REGAIN_INTERVAL_MS,
            });
            regain.update(client.user.nick);
            return;
          }
          // acted on only while there is something to take back
          case 'users offline':
            return regain?.offline((args as ClientEvents['users offline'])[0].nicks);
          case 'users online':
            return regain?.isonReply((args as ClientEvents['users online'])[0].nicks);
          case 'join': {
            const [event] = args as ClientEvents['join'];
            const channel = normalizeChannelName(event.channel);
            if (isMe(event.nick)) report({ type: 'CHANNEL_JOINED', channel });
            else report({ type: 'USER_JOINED', channel, nickname: event.nick });
            return;
          }
          case 'part': {
            const [event] = args as ClientEvents['part'];
            return report(channelLeft(event.channel, event.nick, isMe(event.nick)));
          }
          case 'kick': {
            const [event] = args as ClientEvents['kick'];
            return report(channelLeft(event.channel, event.kicked, isMe(event.kicked)));
          }
          case 'quit': {
            const [event] = args as ClientEvents['quit'];
            if (isMe(event.nick)) return;
            report({ type: 'USER_QUIT', nickname: event.nick });
            // the holder of the wanted nickname left a channel we share (a drain's old connection quitting): take it
            // now, rather than at the next ISON
            return regain?.offline([event.nick]);
          }
          case 'nick': {
            const [event] = args as ClientEvents['nick'];
            report({ type: 'NICK_CHANGED', nickname: event.nick, newNickname: event.new_nick });
            // ours, whether irc-framework has already renamed `client.user` or not
            const ours =
              client.caseCompare(event.nick, client.user.nick) || client.caseCompare(event.new_nick, client.user.nick);
            if (ours) regain?.update(event.new_nick);
            // someone else gave the wanted nickname up
            else regain?.offline([event.nick]);
            return;
          }
          case 'userlist': {
            const [event] = args as ClientEvents['userlist'];
            report({
              type: 'NAMES',
              channel: normalizeChannelName(event.channel),
              users: event.users.map((user) => ({ nickname: user.nick, modes: user.modes.join('') })),
            });
            return;
          }
          case 'irc error': {
            const [event] = args as ClientEvents['irc error'];
            options.logger?.debug({ serverId: input.serverId, error: event.error, reason: event.reason }, 'irc error');
            if (event.error === 'irc') serverError = serverErrorReason(event.reason);
            if (banned !== undefined && event.error === 'irc') return fail(bannedWithError(banned, event.reason));
            const fatal = fatalErrorLine(event);
            if (event.error !== 'banned_from_network') {
              if (fatal !== undefined) fail(fatal);
              return;
            }
            banned = fatal;
            bannedTimer ??= setTimeout(() => fail(banned ?? 'banned by the server (465)'), BANNED_GRACE_MS);
            return;
          }
          case 'sasl failed':
            return saslFailed((args as ClientEvents['sasl failed'])[0]);
          case 'ping timeout':
            pingTimedOut = true;
            return;
          // With auto_reconnect off, the end of the socket is the end of this client.
          // The ERROR line goes before the socket error: it says why, where the socket only says that it ended.
          case 'socket close': {
            const [error] = args as ClientEvents['socket close'];
            // a refused certificate does not heal within a backoff: failed, so the loop does not hammer the server
            const refused = certificateFailure(error);
            if (refused !== undefined) return fail(refused);
            if (banned !== undefined) return fail(banned);
            const reason = pingTimedOut
              ? pingTimeoutReason(input.pingTimeoutMs)
              : (serverError ?? (error ? error.message : SERVER_CLOSED_REASON));
            return finish(reason);
          }
        }
      },

      /** The socket's end, told once: nothing more is written or reported after it. */
      end(last: IrcClientEvent): void {
        if (finished) return;
        finished = true;
        sendQueue.close();
        regain?.stop();
        releaseSlot();
        report(last);
      },

      finish(reason: string): void {
        steps.end({ type: 'CLOSED', reason });
      },

      /** Retrying cannot help: the machine moves to `failed` (and stops this actor with the socket). */
      fail(reason: string): void {
        steps.end({ type: 'FATAL', reason, at: new Date(now()).toISOString() });
      },
    };
    const { drainNames, isMe, nicknameRefused, saslFailed, onClientEvent, finish, fail } = steps;
    const emit = client.emit;
    client.emit = (name, ...args) => {
      const listened = emit.call(client, name, ...args);
      onClientEvent(name, args);
      return listened;
    };

    receive((command) => {
      // xstate skips a callback actor's cleanup when it throws, so a failing write must end the socket
      // here (releasing its connect slot) rather than escape
      try {
        switch (command.type) {
          case 'JOIN': {
            // as few lines as the network allows: each one is a token of the flood-control bucket
            const maxTargets = joinTargetLimit(client.network.supports('TARGMAX'));
            for (const line of joinLines(command.channels, { maxTargets })) client.connection.write(line);
            break;
          }
          case 'PART':
            client.part(command.channel);
            break;
          case 'NAMES':
            for (const channel of command.channels) if (!namesQueue.includes(channel)) namesQueue.push(channel);
            if (namesTimer === undefined) drainNames();
            break;
          case 'QUIT':
            client.quit(command.message);
            break;
        }
      } catch (error) {
        finish(`could not send ${command.type}: ${(error as Error).message}`);
      }
    });

    let releaseSlot: () => void = NOTHING;
    releaseSlot = throttle.admit(settings.host, () => {
      try {
        client.connect({
          host: settings.host,
          port: settings.port,
          tls: settings.tls,
          nick: settings.nickname,
          username: settings.username ?? settings.nickname,
          gecos: settings.realname ?? settings.nickname,
          password: settings.password,
          // explicit, whatever irc-framework's default (it passes undefined, so Node verifies): the trust store and
          // the server name are checked, unless turned off or replaced by a pinned fingerprint (checked at the first write)
          rejectUnauthorized: (settings.tlsVerify ?? true) && settings.tlsFingerprint === undefined,
          ...(settings.clientCertificate !== undefined && settings.clientKey !== undefined
            ? { client_certificate: { certificate: settings.clientCertificate, private_key: settings.clientKey } }
            : {}),
          // an account without credentials when no SASL is set: irc-framework would otherwise send the server
          // password as SASL PLAIN
          account:
            settings.sasl?.mechanism === 'PLAIN'
              ? { account: settings.sasl.account, password: settings.sasl.password }
              : {},
          ...(settings.sasl?.mechanism === 'EXTERNAL' ? { sasl_mechanism: 'EXTERNAL' } : {}),
          sasl_disconnect_on_fail: false,
          auto_reconnect: false,
          // irc-framework counts in seconds; fractions work, which lets tests use short timeouts
          ping_interval: input.pingIntervalMs / 1_000,
          ping_timeout: input.pingTimeoutMs / 1_000,
          version: 'irc-supervisor',
        });
      } catch (error) {
        finish((error as Error).message);
      }
    });
    // a connect that failed synchronously finished before its release existed
    if (finished) releaseSlot();

    return () => {
      finished = true;
      clearTimeout(namesTimer);
      clearTimeout(bannedTimer);
      sendQueue.close();
      regain?.stop();
      releaseSlot();
      client.emit = emit;
      client.removeAllListeners();
      // destroy rather than end: a hung server would keep a half-closed socket open forever
      client.connection.end(null, true);
    };
  });
}
