/** The whole system as real processes (database, IRC service, web) for fault tests. */
import { freePort } from '../../src/process/free-port.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { type Ngircd, startNgircd } from './ngircd.ts';
import { type RunningProcess, startServing } from './process.ts';
import { type WebApi, webApi } from './web-api.ts';

/** One side of the system as a real process that a test can kill and start again on the same port. */
export interface SideProcess {
  readonly url: string;
  readonly port: number;
  /** The current process (undefined while stopped). */
  readonly process: RunningProcess | undefined;
  /** Starts the side (again) and waits until /healthz answers. */
  start(extraEnv?: NodeJS.ProcessEnv): Promise<void>;
  /** Sends a signal; SIGKILL and SIGTERM resolve once the process has exited. */
  signal(signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'): Promise<void>;
}

export interface System {
  db: TestDatabase;
  ircd: Ngircd;
  /** The IRC service (the first node of a cluster). */
  irc: SideProcess;
  /** Every IRC service node, in order (one unless `ircNodes` asked for more); each named `node-` + its port. */
  ircNodes: SideProcess[];
  web: SideProcess;
  token: string;
  /** Starts one more web instance on the same database and IRC service (several-instances tests). */
  startAnotherWeb(extraEnv?: NodeJS.ProcessEnv): Promise<SideProcess>;
  /** Fetch on the web side or the IRC service with the internal token. */
  internalFetch(url: string, init?: RequestInit): Promise<Response>;
  dispose(): Promise<void>;
}

export interface SystemOptions {
  /** Extra environment for both sides (e.g. a short HEALTH_CHECK_INTERVAL_MS). */
  env?: NodeJS.ProcessEnv;
  /** Options for ngircd (e.g. short ping limits). */
  ngircdLimits?: string[];
  /** How many IRC service nodes to start; more than one makes a cluster (`IRC_SERVICE_URLS`). */
  ircNodes?: number;
}

/** An IRC service node's name in a cluster: `node-` + its port. */
export function nodeName(node: { readonly port: number }): string {
  return `node-${node.port}`;
}

function side(entry: string, port: number, env: () => NodeJS.ProcessEnv): SideProcess {
  let current: RunningProcess | undefined;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    get process() {
      return current;
    },
    async start(extraEnv = {}) {
      current = await startServing(entry, url, { ...env(), ...extraEnv });
    },
    async signal(signal) {
      if (!current) return;
      const running = current;
      running.child.kill(signal);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') {
        await running.exited;
        current = undefined;
      }
    },
  };
}

/**
 * The settings of a cluster under test that drains or fails over: a check every second (some run while a server is
 * between its two connections) and flood control at a test's pace (a drain's move takes about half a second
 * instead of four).
 */
export const FAST_CLUSTER_ENV: Readonly<Record<string, string>> = {
  RECONNECT_STAGGER_MS: '10',
  HEALTH_CHECK_INTERVAL_MS: '1000',
  IRC_SEND_INTERVAL_MS: '200',
};

/**
 * The whole system for end-to-end tests, each part real: a PostgreSQL database of the test's own, an
 * ngircd on loopback, the IRC service and the web side as separate Node processes on free ports.
 */
export async function startSystem(options: SystemOptions = {}): Promise<System> {
  const db = await createTestDatabase();
  const ircd = await startNgircd({ limits: options.ngircdLimits });
  const ircPorts: number[] = [];
  for (let index = 0; index < (options.ircNodes ?? 1); index++) ircPorts.push(await freePort());
  const [ircPort] = ircPorts as [number];
  const webPort = await freePort();
  const token = `e2e-token-${Math.random().toString(36).slice(2)}-0123456789`;
  const cluster =
    ircPorts.length > 1 ? ircPorts.map((port) => `${nodeName({ port })}=http://127.0.0.1:${port}`).join(',') : '';
  const env = () => ({
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    INTERNAL_API_TOKEN: token,
    IRC_SERVICE_PORT: String(ircPort),
    IRC_SERVICE_URL: `http://127.0.0.1:${ircPort}`,
    IRC_SERVICE_URLS: cluster,
    PORT: String(webPort),
    LOG_LEVEL: 'warn',
    ...options.env,
  });
  const ircNodes = ircPorts.map((port) =>
    side('src/irc-service/main.ts', port, () => ({ ...env(), IRC_SERVICE_PORT: String(port) })),
  );
  const irc = ircNodes[0]!;
  const web = side('src/web/main.ts', webPort, env);
  const moreWebs: SideProcess[] = [];
  await Promise.all(ircNodes.map((node) => node.start()));
  await web.start();
  return {
    db,
    ircd,
    irc,
    ircNodes,
    web,
    token,
    async startAnotherWeb(extraEnv = {}) {
      const port = await freePort();
      const another = side('src/web/main.ts', port, () => ({ ...env(), PORT: String(port) }));
      moreWebs.push(another);
      await another.start(extraEnv);
      return another;
    },
    internalFetch: (url, init = {}) =>
      fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } }),
    async dispose() {
      await Promise.allSettled([web, ...ircNodes, ...moreWebs].map((sideProcess) => sideProcess.process?.kill()));
      await ircd.dispose();
      await db.drop();
    },
  };
}

/** The whole system (startSystem), and its web API once the web side's first check has run. */
export async function startSettledSystem(options: SystemOptions = {}): Promise<{ system: System; api: WebApi }> {
  const system = await startSystem(options);
  const api = webApi(system.web.url);
  try {
    await api.settled();
  } catch (error) {
    await system.dispose();
    throw error;
  }
  return { system, api };
}
