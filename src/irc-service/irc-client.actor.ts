/**
 * The one place that speaks irc-framework: one client, one socket, for as long as the connection
 * machine stays in its `socket` state. irc-framework's own reconnect is off (it gives up too early and
 * never rejoins its channels); a closed socket is reported once as CLOSED, with the most precise reason
 * known (ping timeout, the server's ERROR line, the socket error), and the machine decides what comes
 * next. Replies that refuse the registration (433, 432, 464, 465) are reported as SERVER_ERROR, so an
 * operator sees why a connection does not come up. Stopping the actor destroys the socket without
 * waiting for anyone.
 */
import IRC from 'irc-framework';
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientEvent, IrcClientInput } from '../../machines/irc-connection.machine.ts';
import type { Logger } from '../logger.ts';
import { normalizeChannelName } from '../shared/irc-events.ts';
import type { ConnectThrottle } from './connect-throttle.ts';

export interface IrcClientActorOptions {
  /** Per-host limit of connects in flight; the slot is held until registration or close. */
  throttle: ConnectThrottle;
  logger?: Logger;
}

/** How many other nicknames to try when ours is taken before registration. */
const NICK_RETRIES = 3;

/** Pause between two NAMES requests of a resync, so a connection in many channels never floods its server. */
const NAMES_PACE_MS = 250;

export function createIrcClientActor(options: IrcClientActorOptions) {
  const { throttle } = options;
  return fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack, receive }) => {
    const { settings } = input;
    const logger = options.logger?.child({ serverId: input.serverId });
    const report = (event: IrcClientEvent) => sendBack(event);
    const client = new IRC.Client();
    let finished = false;
    let registered = false;
    let pingTimedOut = false;
    /** The server's ERROR line: it says why the server is about to close the socket (a K-line, a kill). */
    let serverError: string | undefined;
    let nickRetries = 0;
    const namesQueue: string[] = [];
    let namesTimer: NodeJS.Timeout | undefined;

    /** Sends the queued NAMES one at a time, paced. */
    const drainNames = () => {
      const channel = namesQueue.shift();
      namesTimer = undefined;
      if (channel === undefined || finished) return;
      client.raw('NAMES', channel);
      if (namesQueue.length > 0) namesTimer = setTimeout(drainNames, NAMES_PACE_MS);
    };

    const isMe = (nickname: string) => client.caseCompare(nickname, client.user.nick);

    client.on('registered', (event) => {
      registered = true;
      releaseSlot();
      report({ type: 'REGISTERED', nickname: event.nick });
    });
    client.on('nick in use', (event) => {
      if (registered) return;
      report({ type: 'SERVER_ERROR', message: `433 nickname in use: ${event.nick}` });
      if (nickRetries >= NICK_RETRIES) return;
      nickRetries += 1;
      client.changeNick(`${settings.nickname}${'_'.repeat(nickRetries)}`);
    });
    client.on('nick invalid', (event) => {
      if (!registered) report({ type: 'SERVER_ERROR', message: `432 erroneous nickname: ${event.nick}` });
    });
    client.on('join', (event) => {
      const channel = normalizeChannelName(event.channel);
      if (isMe(event.nick)) report({ type: 'CHANNEL_JOINED', channel });
      else report({ type: 'USER_JOINED', channel, nickname: event.nick });
    });
    client.on('part', (event) => {
      const channel = normalizeChannelName(event.channel);
      if (isMe(event.nick)) report({ type: 'CHANNEL_PARTED', channel });
      else report({ type: 'USER_PARTED', channel, nickname: event.nick });
    });
    client.on('kick', (event) => {
      const channel = normalizeChannelName(event.channel);
      if (isMe(event.kicked)) report({ type: 'CHANNEL_PARTED', channel });
      else report({ type: 'USER_PARTED', channel, nickname: event.kicked });
    });
    client.on('quit', (event) => {
      if (!isMe(event.nick)) report({ type: 'USER_QUIT', nickname: event.nick });
    });
    client.on('nick', (event) => {
      report({ type: 'NICK_CHANGED', nickname: event.nick, newNickname: event.new_nick });
    });
    client.on('userlist', (event) => {
      report({
        type: 'NAMES',
        channel: normalizeChannelName(event.channel),
        users: event.users.map((user) => ({ nickname: user.nick, modes: user.modes.join('') })),
      });
    });
    client.on('irc error', (event) => {
      logger?.debug({ error: event.error, reason: event.reason }, 'irc error');
      if (event.error === 'irc') serverError = `ERROR :${event.reason ?? ''}`;
      else if (event.error === 'password_mismatch') report({ type: 'SERVER_ERROR', message: '464 password incorrect' });
      else if (event.error === 'banned_from_network') {
        report({ type: 'SERVER_ERROR', message: `465 ${event.reason ?? 'banned from this server'}` });
      }
    });
    client.on('ping timeout', () => {
      pingTimedOut = true;
    });
    // With auto_reconnect off, the end of the socket is the end of this client.
    // The ERROR line goes before the socket error: it says why, where the socket only says that it ended.
    client.on('socket close', (error) => {
      const reason = pingTimedOut
        ? `Ping timeout (${input.pingTimeoutMs} ms)`
        : (serverError ?? (error ? error.message : 'connection closed by the server'));
      finish(reason);
    });

    function finish(reason: string) {
      if (finished) return;
      finished = true;
      releaseSlot();
      report({ type: 'CLOSED', reason });
    }

    receive((command) => {
      // xstate skips a callback actor's cleanup when it throws, so a failing write must end the socket
      // here (releasing its connect slot) rather than escape
      try {
        switch (command.type) {
          case 'JOIN':
            for (const channel of command.channels) client.join(channel);
            break;
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

    let releaseSlot: () => void = () => {};
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
      releaseSlot();
      client.removeAllListeners();
      // destroy rather than end: a hung server would keep a half-closed socket open forever
      client.connection.end(null, true);
    };
  });
}
