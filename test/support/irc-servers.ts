/**
 * The real IRC servers end-to-end tests run against: ngircd and InspIRCd 3, started with the same few settings
 * in each one's own words (both allow any number of channels per client), and the connection timing that suits
 * each: InspIRCd completes a registration only at its next once-a-second tick, so a connection there waits up
 * to a second for its welcome, longer than the 1 s ping timeout that finds a hung ngircd quickly.
 *
 * ```ts
 * describeEachIrcServer('IRC service against a real server', {}, (server) => {
 *   beforeEach(async () => {
 *     ircd = await server.start({ nicklen: 9 });
 *     service = await startInProcessIrcService({ timing: server.timing });
 *   });
 * });
 * ```
 */
import { describe } from 'vitest';
import type { IrcConnectionTiming } from '../../machines/irc-connection.machine.ts';
import { E2E_TIMING } from './in-process-irc-service.ts';
import { startInspircd } from './inspircd.ts';
import type { IrcServerProcess } from './ircd-process.ts';
import { startNgircd } from './ngircd.ts';
import { lacks, type ProgramName } from './requirements.ts';

export interface IrcServerOptions {
  /** The NICKLEN it announces and enforces (ngircd's MaxNickLength, InspIRCd's maxnick); 30 by default. */
  nicklen?: number;
  /** `none` (the default): no flood control; `default`: the server's own, at its defaults. */
  penalties?: 'none' | 'default';
  /** The server password (`PASS`) every client must give. */
  password?: string;
  /** An IRC operator who may OPER, then KLINE. */
  operator?: { name: string; password: string };
}

export interface IrcServerKind {
  /** For test names: `ngircd`, `InspIRCd`. */
  name: string;
  program: ProgramName;
  /** Whether it offers MONITOR (ISUPPORT), which the nickname regain uses instead of asking ISON. */
  monitor: boolean;
  /** The connection timing for end-to-end tests against it. */
  timing: Partial<IrcConnectionTiming>;
  start(options?: IrcServerOptions): Promise<IrcServerProcess>;
}

export const IRC_SERVERS: readonly IrcServerKind[] = [
  {
    name: 'ngircd',
    program: 'ngircd',
    monitor: false,
    timing: E2E_TIMING,
    start: ({ nicklen, penalties, operator, password } = {}) =>
      startNgircd({
        penalties,
        operator,
        password,
        limits: ['MaxJoins = 0', ...(nicklen === undefined ? [] : [`MaxNickLength = ${nicklen}`])],
      }),
  },
  {
    name: 'InspIRCd',
    program: 'inspircd',
    monitor: true,
    timing: { ...E2E_TIMING, registrationTimeoutMs: 5_000, pingTimeoutMs: 2_500 },
    start: ({ nicklen, penalties, operator, password } = {}) =>
      startInspircd({ maxnick: nicklen, penalties, operator, password }),
  },
];

/**
 * `describe(title (server name), options, body)` once per server of IRC_SERVERS, skipped with lacks()'s
 * notice where the server's program is missing.
 */
export function describeEachIrcServer(
  title: string,
  options: { timeout?: number },
  body: (server: IrcServerKind) => void,
): void {
  for (const server of IRC_SERVERS) {
    describe.skipIf(lacks(server.program))(`${title} (${server.name})`, options, () => body(server));
  }
}
