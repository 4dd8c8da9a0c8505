/**
 * A real IRC server for end-to-end tests: one ngircd per test (or file) on a free loopback port, with
 * a config of its own in a temp folder, ready in about 60 ms.
 *
 * ```ts
 * describe.skipIf(lacks('ngircd'))('...', () => {
 *   let ircd: Ngircd;
 *   beforeEach(async () => { ircd = await startNgircd(); });
 *   afterEach(() => ircd.dispose());
 *
 *   it('...', async () => {
 *     // connect to ircd.host:ircd.port
 *     await ircd.kill('SIGKILL');   // the network dies; kill('SIGSTOP') hangs it, kill('SIGCONT') resumes it
 *     await ircd.restart();         // the network comes back on the same port
 *   });
 * });
 * ```
 *
 * The config is what STACK.md found to work for tests: no connection limit per IP, 30-character
 * nicknames, no penalty time (else every JOIN waits about a second), no PAM/ident/DNS lookups.
 * Its log (stdout of `ngircd -n`, all runs) is kept for `output()` and `waitForLog()`.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/process/free-port.ts';
import { type IrcServerProcess, runIrcServer } from './ircd-process.ts';
import { NGIRCD } from './requirements.ts';
import { makeTempDir } from './temp-dir.ts';

export type Ngircd = IrcServerProcess;

export interface NgircdOptions {
  /** Port to listen on; a free one by default. */
  port?: number;
  /** Server name; `irc.test` by default. */
  name?: string;
  /** Extra lines for the [Limits] section, e.g. `PingTimeout = 5` or `MaxNickLength = 9`. */
  limits?: string[];
  /**
   * `none` (the default here): no penalty time, so test bots are never slowed. `default`: ngircd's own flood
   * control, about one command a second once a client has sent a burst, for tests of our flood control.
   */
  penalties?: 'none' | 'default';
  /** The server password (`PASS`) every client must give; none by default. */
  password?: string;
  /** An IRC operator who may OPER (and then KLINE, KILL, …), written to the include folder. */
  operator?: { name: string; password: string };
  /** Longest wait for it to listen. */
  startTimeoutMs?: number;
}

function configText(
  name: string,
  port: number,
  includeDir: string,
  limits: string[],
  penalties: 'none' | 'default',
  password: string | undefined,
): string {
  return [
    '[Global]',
    `Name = ${name}`,
    'Info = irc-supervisor test server',
    'AdminInfo1 = irc-supervisor tests',
    'AdminInfo2 = loopback only',
    'AdminEMail = tests@example.invalid',
    'Listen = 127.0.0.1',
    `Ports = ${port}`,
    ...(password === undefined ? [] : [`Password = ${password}`]),
    '[Limits]',
    'MaxConnectionsIP = 0',
    ...(limits.some((line) => /^MaxNickLength\b/.test(line)) ? [] : ['MaxNickLength = 30']),
    ...(penalties === 'none' ? ['MaxPenaltyTime = 0'] : []),
    ...limits,
    '[Options]',
    'PAM = no',
    'Ident = no',
    'DNS = no',
    `IncludeDir = ${includeDir}`,
    '',
  ].join('\n');
}

export async function startNgircd(options: NgircdOptions = {}): Promise<Ngircd> {
  const binary = NGIRCD;
  if (!binary) throw new Error("ngircd is not installed; guard the test with describe.skipIf(lacks('ngircd'))");
  const name = options.name ?? 'irc.test';
  const port = options.port ?? (await freePort());
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;

  // As root, ngircd drops to `nobody`, which must still read its config and include folder.
  const folder = await makeTempDir('ngircd');
  const includeDir = join(folder.path, 'conf.d');
  await mkdir(includeDir);
  await chmod(includeDir, 0o755);
  if (options.operator) {
    const operatorPath = join(includeDir, 'operator.conf');
    const { name: operName, password } = options.operator;
    await writeFile(operatorPath, ['[Operator]', `Name = ${operName}`, `Password = ${password}`, ''].join('\n'));
    await chmod(operatorPath, 0o644);
  }
  const configPath = join(folder.path, 'ngircd.conf');
  await writeFile(
    configPath,
    configText(name, port, includeDir, options.limits ?? [], options.penalties ?? 'none', options.password),
  );
  await chmod(configPath, 0o644);

  return runIrcServer({
    program: 'ngircd',
    command: binary,
    args: ['-n', '-f', configPath],
    ready: /Now listening on \[127\.0\.0\.1\]:\d+/,
    startTimeoutMs,
    port,
    name,
    folder,
  });
}
