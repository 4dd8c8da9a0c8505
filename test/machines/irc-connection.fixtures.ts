import type { IrcConnectionSettings, IrcConnectionTiming } from '../../machines/irc-connection.machine.ts';

/** The settings and timing the connection machine's tests run with (fake timers make them instant). */
export const settings: IrcConnectionSettings = { host: '127.0.0.1', port: 6667, tls: false, nickname: 'tester' };

export const timing: IrcConnectionTiming = {
  reconnectBaseMs: 1_000,
  reconnectMaxMs: 8_000,
  reconnectJitter: 0,
  stableAfterMs: 10_000,
  registrationTimeoutMs: 5_000,
  quitTimeoutMs: 2_000,
  pingIntervalMs: 30_000,
  pingTimeoutMs: 60_000,
  failedRetryMs: 600_000,
};
