import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { withPasswordMasked } from '../../src/db/database-url.ts';
import { freePort } from '../../src/process/free-port.ts';
import { createTestDatabase } from '../support/database.ts';
import { connectObserver } from '../support/irc-observer.ts';
import { startNgircd } from '../support/ngircd.ts';
import { eventually, isAlive, type RunningProcess, runProjectProcess } from '../support/process.ts';
import { commandLine, descendantPids } from '../support/process-tree.ts';
import { lacks } from '../support/requirements.ts';
import { openSse, type SseEvent } from '../support/sse-client.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { webApi } from '../support/web-api.ts';

/** The pids of the children (Node processes running a main.ts): both sides and the embedded database's. */
function sidePids(pid: number): number[] {
  let children: number[];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    return [];
  }
  return children.filter((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('main.ts'));
}

/** The pid of the side whose command line names this entry. */
function sidePid(pid: number, entry: string): number {
  const found = sidePids(pid).filter((child) => commandLine(child).includes(entry));
  expect(found, `one ${entry} under ${pid}`).toHaveLength(1);
  return found[0]!;
}

function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/**
 * Removes a data folder once its PostgreSQL has exited: a start killed outright (the cleanup's SIGKILL) has
 * its database child stop PostgreSQL after the fact, and PostgreSQL writes into the folder until it is gone.
 */
async function removeAfterPostgres(dir: { path: string; remove(): Promise<void> }): Promise<void> {
  // the file may go between a look and a read: PostgreSQL removes it as it exits
  const postmaster = existsSync(join(dir.path, 'postgres', 'postmaster.pid'))
    ? (() => {
        try {
          return postmasterPid(dir.path);
        } catch {
          return undefined;
        }
      })()
    : undefined;
  if (postmaster !== undefined) await eventually(() => !isAlive(postmaster), 15_000);
  await dir.remove();
}

describe('npm start (src/start.ts) on an embedded PostgreSQL', () => {
  const running: RunningProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const process of running.splice(0)) await process.kill();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function start(dataDir: string, extra: NodeJS.ProcessEnv = {}) {
    const [webPort, ircPort] = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: '',
      INTERNAL_API_TOKEN: '',
      DATA_DIR: dataDir,
      PORT: String(webPort),
      IRC_SERVICE_PORT: String(ircPort),
      ...extra,
    };
    const started = runProjectProcess('src/start.ts', env);
    running.push(started);
    return { started, webUrl: `http://127.0.0.1:${webPort}`, ircUrl: `http://127.0.0.1:${ircPort}` };
  }

  /** A new start on the folder finds its database migrated already, serves, and stops cleanly on SIGTERM. */
  async function expectRestartOnTheSameData(dataDir: string) {
    const again = await start(dataDir);
    await again.started.waitForOutput(/irc-supervisor is running/);
    expect(again.started.output()).toContain('database is up to date');
    again.started.child.kill('SIGTERM');
    expect(await again.started.exited).toBe(0);
  }

  it('serves both sides, stops everything on Ctrl-C, and reuses the data on the next start', async () => {
    const dir = await makeTempDir('start-e2e');
    cleanups.push(() => removeAfterPostgres(dir));

    const first = await start(dir.path);
    await first.started.waitForOutput(/irc-supervisor is running/);
    expect((await fetch(`${first.webUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${first.ircUrl}/healthz`)).status).toBe(200);
    expect(first.started.output()).toContain('migrations applied');
    // the embedded database's address, without its password, and how to get in with psql
    const output = first.started.output();
    const address = /^ {2}database: {8}(\S+) \(embedded, in (.+)\)$/m.exec(output);
    expect(address?.[1]).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/irc_supervisor$/);
    expect(address?.[2]).toBe(dir.path);
    const psql = /^ {2}psql: {12}PGPASSWORD=(\S+) psql (\S+)$/m.exec(output);
    expect(psql?.[2]).toBe(address?.[1]);
    // the password goes in apart, as PGPASSWORD does for psql
    const login = new URL(address?.[1] ?? '');
    login.password = psql?.[1] ?? '';
    const client = new pg.Client({ connectionString: login.toString() });
    await client.connect();
    try {
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
    const postgres = postmasterPid(dir.path);
    const sides = sidePids(first.started.child.pid!);
    expect(sides).toHaveLength(3);

    first.started.child.kill('SIGINT');

    expect(await first.started.exited).toBe(0);
    for (const pid of [postgres, ...sides]) expect(isAlive(pid), `pid ${pid} left behind`).toBe(false);
    expect(existsSync(join(dir.path, 'postgres', 'postmaster.pid'))).toBe(false);

    await expectRestartOnTheSameData(dir.path);
  }, 60_000);

  it('restarts the IRC service alone when it is killed, while the web side keeps serving', async () => {
    const dir = await makeTempDir('start-e2e-restart');
    cleanups.push(() => removeAfterPostgres(dir));
    const { started, webUrl, ircUrl } = await start(dir.path);
    await started.waitForOutput(/irc-supervisor is running/);
    const web = sidePid(started.child.pid!, 'web/main.ts');
    const irc = sidePid(started.child.pid!, 'irc-service/main.ts');
    const webAnswers: number[] = [];
    let outage = true;
    const watchWeb = (async () => {
      while (outage) {
        webAnswers.push((await fetch(`${webUrl}/healthz`)).status);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const killedAt = performance.now();
    process.kill(irc, 'SIGKILL');
    await eventually(async () => (await fetch(`${ircUrl}/healthz`)).ok, 30_000, 20);
    const backAfterMs = Math.round(performance.now() - killedAt);
    outage = false;
    await watchWeb;

    console.log(`the IRC service served again ${backAfterMs} ms after its SIGKILL`);
    expect(started.output()).toContain('start: the IRC service exited (SIGKILL); restarting it in 250 ms');
    await started.waitForOutput(/start: the IRC service is serving again \(pid \d+/);
    expect(sidePid(started.child.pid!, 'irc-service/main.ts')).not.toBe(irc);
    expect(sidePid(started.child.pid!, 'web/main.ts')).toBe(web);
    expect(webAnswers.length).toBeGreaterThan(0);
    expect(new Set(webAnswers)).toEqual(new Set([200]));
    expect(started.child.exitCode).toBeNull();
  }, 60_000);

  it('gives up with one line and exit 1 when a side keeps failing, stopping the rest', async () => {
    const dir = await makeTempDir('start-e2e-give-up');
    cleanups.push(() => removeAfterPostgres(dir));
    const { started, webUrl, ircUrl } = await start(dir.path);
    await started.waitForOutput(/irc-supervisor is running/);
    const everything = [...descendantPids(started.child.pid!), postmasterPid(dir.path)];
    const irc = sidePid(started.child.pid!, 'irc-service/main.ts');

    // its port taken by another program: every restart of the IRC service fails
    process.kill(irc, 'SIGKILL');
    await eventually(() => !isAlive(irc));
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(Number(new URL(ircUrl).port), '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => squatter.close(() => resolve())));

    expect(await started.exited).toBe(1);
    const lines = started.output().split('\n');
    expect(lines.filter((line) => line.includes('giving up'))).toEqual([
      'start: the IRC service exited (code 1) after 5 restarts within 60 s; giving up',
    ]);
    for (const pid of everything) await eventually(() => !isAlive(pid), 5_000);
    await expect(fetch(`${webUrl}/healthz`)).rejects.toThrow();
  }, 90_000);

  it('takes both sides down with it when killed outright, and the next start recovers its database', async () => {
    const dir = await makeTempDir('start-e2e-kill');
    cleanups.push(() => removeAfterPostgres(dir));
    const first = await start(dir.path);
    await first.started.waitForOutput(/irc-supervisor is running/);
    const sides = sidePids(first.started.child.pid!);
    expect(sides).toHaveLength(3);

    first.started.child.kill('SIGKILL');

    for (const pid of sides) await eventually(() => !isAlive(pid), 10_000);
    await expectRestartOnTheSameData(dir.path);
  }, 60_000);

  it.each([
    [{ HEALTH_CHECK_INTERVAL_MS: 'soon' }, 'HEALTH_CHECK_INTERVAL_MS is invalid: expected a whole number, got "soon"'],
    [{ HOST: '0.0.0.0' }, 'WEB_PASSWORD is required when HOST is not a loopback address (HOST=0.0.0.0)'],
    [{ INTERNAL_API_TOKEN: 'short' }, 'INTERNAL_API_TOKEN is invalid: expected at least 16 characters, got (hidden)'],
    [{ IRC_SERVICE_URL: 'ftp://x' }, 'IRC_SERVICE_URL is invalid'],
  ])('refuses bad configuration (%o) with one line naming the variable, before anything starts', async (bad, line) => {
    const dir = await makeTempDir('start-e2e-bad');
    cleanups.push(() => removeAfterPostgres(dir));
    const dataDir = join(dir.path, 'data');
    const { started } = await start(dataDir, bad);

    expect(await started.exited).toBe(1);
    const output = started.output().trim();
    expect(output.split('\n')).toHaveLength(1);
    expect(output.startsWith(`start: ${line}`), output).toBe(true);
    // no database started, nothing written
    expect(existsSync(dataDir)).toBe(false);
  });
});

/**
 * The seed's own scenario under `npm start`, with a real IRC network: the IRC service dies by SIGKILL while
 * the operator wants a connection with a joined channel. The supervisor restarts the IRC service alone; the
 * web side (same pid) shows the outage to its browsers and then the recovery, and the connection comes back
 * by itself: registered on the network again, its channel joined again, the database saying so.
 */
describe.skipIf(lacks('ngircd'))('npm start (src/start.ts) with a real IRC network', () => {
  const running: RunningProcess[] = [];
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    for (const process of running.splice(0)) await process.kill();
  });

  /**
   * `npm start` on a PostgreSQL database and an ngircd of the test's own, all torn down after the test; resolves
   * once it says it is running.
   */
  async function startWithNetwork(webPort: number, ircPort: number, extraEnv: NodeJS.ProcessEnv = {}) {
    const db = await createTestDatabase();
    const ircd = await startNgircd();
    const started = runProjectProcess('src/start.ts', {
      DATABASE_URL: db.url,
      INTERNAL_API_TOKEN: `start-e2e-${Math.random().toString(36).slice(2)}-0123456789`,
      PORT: String(webPort),
      IRC_SERVICE_PORT: String(ircPort),
      LOG_LEVEL: 'warn',
      ...extraEnv,
    });
    running.push(started);
    // after the processes are gone (cleanups run in reverse, before `running` is killed)
    cleanups.push(
      () => db.drop(),
      () => ircd.dispose(),
      () => started.kill(),
    );
    await started.waitForOutput(/irc-supervisor is running/);
    return { db, ircd, started, webUrl: `http://127.0.0.1:${webPort}` };
  }

  it('restores the wanted connection after a SIGKILL of the IRC service; /events shows the outage, then the recovery', async () => {
    const { db, ircd, started, webUrl } = await startWithNetwork(await freePort(), await freePort());
    expect(started.output()).toContain(`  database:        ${withPasswordMasked(db.url)}\n`);
    const api = webApi(webUrl);
    await api.settled();

    const observer = await connectObserver(ircd, 'onlooker');
    cleanups.push(() => observer.close());
    await observer.join('#restored');
    const serverId = await api.createServer({ host: ircd.host, port: ircd.port, nickname: 'restored' });
    await api.connect(serverId);
    await api.join(serverId, '#restored');
    const joinsOfRestored = () => observer.lines.filter((line) => /^:restored!\S+ JOIN :?#restored/i.test(line)).length;
    await eventually(() => joinsOfRestored() === 1, 10_000);
    /** When the server is connected with #restored joined, as the database says: the time it connected. */
    const connectedWithChannel = async (): Promise<Date | undefined> => {
      const [row] = await db.query<{ connected_at: Date | null; joined: boolean }>(
        `select s.connected_at, c.joined from servers s join channels c on c.server_id = s.id
         where s.id = $1 and c.name = '#restored'`,
        [serverId],
      );
      return row?.joined && row.connected_at ? row.connected_at : undefined;
    };
    const connectedBefore = (await eventually(connectedWithChannel, 5_000))!;
    const browser = await openSse(`${webUrl}/events`);
    cleanups.push(() => browser.close());
    const web = sidePid(started.child.pid!, 'web/main.ts');
    const irc = sidePid(started.child.pid!, 'irc-service/main.ts');
    const status = (connected: boolean) => (event: SseEvent) =>
      event.type === 'server-status' &&
      (event.data as { serverId: number; connected: boolean }).serverId === serverId &&
      (event.data as { connected: boolean }).connected === connected;

    const killedAt = performance.now();
    process.kill(irc, 'SIGKILL');

    const outage = await browser.waitFor(status(false), 10_000);
    const after = (event: SseEvent, earlier: SseEvent) =>
      browser.events.indexOf(event) > browser.events.indexOf(earlier);
    const degraded = await browser.waitFor(
      (event) => event.type === 'health' && (event.data as { state: string }).state === 'degraded',
      10_000,
    );
    const recovery = await browser.waitFor((event) => status(true)(event) && after(event, outage), 30_000);
    await eventually(() => joinsOfRestored() === 2, 10_000);
    const connectedAgain = (await eventually(connectedWithChannel, 10_000))!;
    const restoredAfterMs = Math.round(performance.now() - killedAt);

    console.info(
      `npm start: time from SIGKILL of the IRC service to restored connections (registered, channel joined, database and /events agreeing): ${restoredAfterMs} ms`,
    );
    expect(started.output()).toContain('start: the IRC service exited (SIGKILL); restarting it in 250 ms');
    expect(sidePid(started.child.pid!, 'web/main.ts')).toBe(web);
    expect(sidePid(started.child.pid!, 'irc-service/main.ts')).not.toBe(irc);
    // the network saw the old connection go and the new one come in under the same name
    expect(observer.lines.some((line) => /^:restored!\S+ QUIT/i.test(line))).toBe(true);
    expect(connectedAgain.getTime()).toBeGreaterThan(connectedBefore.getTime());
    expect(after(recovery, degraded)).toBe(true);
    await browser.waitFor(
      (event) =>
        event.type === 'health' && (event.data as { state: string }).state === 'healthy' && after(event, degraded),
      10_000,
    );

    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  }, 90_000);

  it('IRC_NODES=3 runs three local IRC service nodes on consecutive ports, and servers are placed over them', async () => {
    const webPort = await freePort();
    let ircPort = await freePort();
    while (!(await portsFree([ircPort + 1, ircPort + 2]))) ircPort = await freePort();
    const { db, ircd, started, webUrl } = await startWithNetwork(webPort, ircPort, {
      IRC_NODES: '3',
      RECONNECT_STAGGER_MS: '10',
    });
    const names = [0, 1, 2].map((index) => `node-${ircPort + index}`);
    expect(started.output()).toContain(`IRC service ${names[2]}: http://127.0.0.1:${ircPort + 2}`);
    const api = webApi(webUrl);
    await api.settled();

    const { nodes } = (await (await fetch(`${webUrl}/api/irc-nodes`)).json()) as {
      nodes: Array<{ name: string; state: string }>;
    };
    expect(nodes.map((node) => [node.name, node.state])).toEqual(names.map((name) => [name, 'healthy']));
    for (let index = 0; index < 12; index += 1) {
      await api.connect(await api.createServer({ host: ircd.host, port: ircd.port, nickname: `spread${index}` }));
    }
    const placed = () => db.query<{ irc_node: string }>('select irc_node from servers where connected_at is not null');
    await eventually(async () => (await placed()).length === 12, 15_000);
    const used = new Set((await placed()).map((row) => row.irc_node));
    expect([...used].every((name) => names.includes(name))).toBe(true);
    expect(used.size).toBeGreaterThan(1);
  }, 60_000);
});

/** Whether nothing listens on these loopback ports (a local cluster needs consecutive ones). */
async function portsFree(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}
