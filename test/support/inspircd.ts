/**
 * A second real IRC server for end-to-end tests: one InspIRCd 3 per test (or file) on a free loopback port,
 * with a config of its own in a temp folder, ready in about 30 ms. The binary is Debian's package unpacked
 * into `.programs/inspircd` by test/support/unpack-inspircd.sh (not installed: it would remove ngircd).
 *
 * ```ts
 * describe.skipIf(lacks('inspircd'))('...', () => {
 *   let ircd: Inspircd;
 *   beforeEach(async () => { ircd = await startInspircd({ maxnick: 9 }); });
 *   afterEach(() => ircd.dispose());
 *   // the same handle as ngircd's: kill('SIGKILL' | 'SIGSTOP' | 'SIGCONT'), stop(), restart(), output()
 * });
 * ```
 *
 * InspIRCd refuses to run as root (and `--runasroot` is not the way): as root it is started as `nobody`
 * through setpriv, so its temp folder is writable by anyone (and, in a clone that `nobody` cannot enter, it
 * runs from a copy in the temp folder). The config loads the `cap` and `monitor` modules
 * (MONITOR is what the nickname regain uses where offered), allows any number of connections and channels
 * per client, does no DNS or ident lookups, and by default has no flood control (`penalties: 'default'` keeps
 * InspIRCd's own: a burst of 10 commands, then one a second, held back by fake lag).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { freePort } from '../../src/process/free-port.ts';
import { type IrcServerProcess, runIrcServer } from './ircd-process.ts';
import { INSPIRCD } from './requirements.ts';
import { makeTempDir } from './temp-dir.ts';

export type Inspircd = IrcServerProcess;

export interface InspircdOptions {
  /** Port to listen on; a free one by default. */
  port?: number;
  /** Server name; `irc.test` by default. */
  name?: string;
  /** `<limits maxnick>`: the NICKLEN it announces and enforces (432 beyond it); 30 by default. */
  maxnick?: number;
  /** `none` (the default here): no flood control. `default`: InspIRCd's own, for tests of our flood control. */
  penalties?: 'none' | 'default';
  /** The server password (`PASS`) every client must give (`<connect password>`); none by default. */
  password?: string;
  /** An IRC operator who may OPER, then KLINE, GLINE and KILL. */
  operator?: { name: string; password: string };
  /** Longest wait for it to listen. */
  startTimeoutMs?: number;
}

/** XML attribute values here are numbers and our own paths; quotes would break the tag. */
function attribute(value: string | number): string {
  const text = String(value);
  if (text.includes('"')) throw new Error(`inspircd config value with a quote: ${text}`);
  return `"${text}"`;
}

function configText(options: {
  name: string;
  port: number;
  folder: string;
  moduleDir: string;
  maxnick: number;
  penalties: 'none' | 'default';
  operator: { name: string; password: string } | undefined;
  password: string | undefined;
}): string {
  const { folder } = options;
  const noFlood = 'threshold="1000000" commandrate="1000000" fakelag="no" recvq="1048576" softsendq="1048576"';
  return [
    `<path configdir=${attribute(folder)} datadir=${attribute(folder)} logdir=${attribute(folder)}`,
    `      runtimedir=${attribute(folder)} moduledir=${attribute(options.moduleDir)}>`,
    `<server name=${attribute(options.name)} description="irc-supervisor test server" network="TestNet">`,
    '<admin name="irc-supervisor tests" nick="tests" email="tests@example.invalid">',
    `<bind address="127.0.0.1" port=${attribute(options.port)} type="clients">`,
    '<connect allow="*" localmax="100000" globalmax="100000" maxchans="1000" hardsendq="4194304"',
    `         resolvehostnames="no" useident="no" ${options.penalties === 'none' ? noFlood : ''}`,
    `         ${options.password === undefined ? '' : `password=${attribute(options.password)}`}>`,
    `<limits maxnick=${attribute(options.maxnick)}>`,
    `<pid file=${attribute(join(folder, 'inspircd.pid'))}>`,
    `<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target=${attribute(join(folder, 'inspircd.log'))}>`,
    '<module name="cap">',
    '<module name="monitor">',
    ...(options.operator
      ? [
          '<class name="BanControl" commands="KILL GLINE KLINE ZLINE QLINE ELINE">',
          '<type name="BanOperator" classes="BanControl">',
          `<oper name=${attribute(options.operator.name)} password=${attribute(options.operator.password)} host="*@*" type="BanOperator">`,
        ]
      : []),
    '',
  ].join('\n');
}

/** The modules folder in the package's root. */
const MODULES = 'usr/lib/inspircd/modules';

/** setpriv's arguments that run a program as `nobody` (as root only). */
const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/** Where the package's root (usr/sbin/inspircd, usr/lib/inspircd/modules) is copied when `nobody` cannot reach it. */
const NOBODY_COPY = join(tmpdir(), 'irc-supervisor-inspircd');

let reachableRoot: Promise<string> | undefined;

/**
 * As root: the package's root that `nobody` can run InspIRCd from. The unpacked one, unless a folder above it
 * is closed to others (a clone inside /root); then a copy in the temp folder, made once and shared by every
 * test file (each copies aside and renames, so concurrent ones never see half a copy).
 */
function rootForNobody(root: string, binary: string): Promise<string> {
  // the binary and a module it loads (exec alone may pass where reading the modules does not)
  const reachable = (where: string) => {
    const paths = [join(where, relative(root, binary)), join(where, MODULES, 'm_monitor.so')];
    return spawnSync('setpriv', [...AS_NOBODY, 'test', '-x', paths[0]!, '-a', '-r', paths[1]!]).status === 0;
  };
  reachableRoot ??= (async () => {
    if (reachable(root)) return root;
    if (reachable(NOBODY_COPY)) return NOBODY_COPY;
    const aside = `${NOBODY_COPY}.${process.pid}`;
    await cp(root, aside, { recursive: true });
    await chmod(aside, 0o755);
    await rm(NOBODY_COPY, { recursive: true, force: true });
    // another test file may have renamed its copy first: that one serves as well
    await rename(aside, NOBODY_COPY).catch(() => rm(aside, { recursive: true, force: true }));
    if (!reachable(NOBODY_COPY)) throw new Error(`nobody cannot run ${binary}, nor its copy in ${NOBODY_COPY}`);
    return NOBODY_COPY;
  })();
  return reachableRoot;
}

export async function startInspircd(options: InspircdOptions = {}): Promise<Inspircd> {
  if (!INSPIRCD) throw new Error("inspircd is not unpacked; guard the test with describe.skipIf(lacks('inspircd'))");
  const name = options.name ?? 'irc.test';
  const port = options.port ?? (await freePort());
  const asRoot = process.getuid?.() === 0;
  // the package's root (`/` for an installed one): usr/sbin/inspircd, usr/lib/inspircd/modules
  const unpacked = dirname(dirname(dirname(INSPIRCD)));
  const root = asRoot ? await rootForNobody(unpacked, INSPIRCD) : unpacked;
  const binary = join(root, relative(unpacked, INSPIRCD));
  const libraries = join(root, 'usr/lib/x86_64-linux-gnu');

  const folder = await makeTempDir('inspircd');
  // run as `nobody` when we are root: it writes its log and pid file here
  await chmod(folder.path, 0o777);
  const configPath = join(folder.path, 'inspircd.conf');
  await writeFile(
    configPath,
    configText({
      name,
      port,
      folder: folder.path,
      moduleDir: join(root, MODULES),
      maxnick: options.maxnick ?? 30,
      penalties: options.penalties ?? 'none',
      operator: options.operator,
      password: options.password,
    }),
  );
  await chmod(configPath, 0o644);

  const args = ['--nofork', '--config', configPath];
  return runIrcServer({
    program: 'inspircd',
    command: asRoot ? 'setpriv' : binary,
    args: asRoot ? [...AS_NOBODY, binary, ...args] : args,
    // libraries the machine lacks, unpacked beside it by unpack-inspircd.sh
    env: root !== '/' && existsSync(libraries) ? { LD_LIBRARY_PATH: libraries } : {},
    ready: /InspIRCd is now running as/,
    startTimeoutMs: options.startTimeoutMs ?? 10_000,
    port,
    name,
    folder,
    logFile: join(folder.path, 'inspircd.log'),
  });
}
