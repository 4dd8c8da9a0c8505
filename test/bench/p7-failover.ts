/**
 * P7: failover. The whole system as real processes (PostgreSQL, one ngircd, three IRC service nodes, the web
 * side with `IRC_SERVICE_URLS`), 1,000 wanted servers placed on one node (seeded `servers.irc_node`) and
 * registered there. That node is SIGKILLed; the clock runs until every one of the 1,000 is registered on a
 * surviving node, as the survivors tell it (`connected` on their `/internal/irc/events`, checked against their
 * `/internal/irc/status` afterwards). In between: the web side sees the node's event stream drop, checks it,
 * finds it refusing, gives its servers the disconnect transition, places them by rendezvous on the two others
 * and hands them over; each survivor connects its share through its per-host throttle.
 *
 * Floor, measured in the same run: the connect storm's floor (bare irc-framework clients in one process, the
 * same count) with the same throttle, which is the in-flight limit the cluster grants the IRC host during the
 * failover: `IRC_CONNECTS_PER_HOST` (8) on each of the two survivors, so 16. Comparing with 8 would credit
 * the cluster with a second node's throttle for free.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { freePort } from '../../src/process/free-port.ts';
import { MAX_CONNECTIONS_PER_BATCH } from '../../src/shared/irc-service-contract.ts';
import { type Ngircd, startNgircd } from '../support/ngircd.ts';
import type { RunningProcess } from '../support/process.ts';
import { openSse, type SseClient } from '../support/sse-client.ts';
import { createBenchDatabase } from './bench-database.ts';
import { startSide, until as untilIn } from './bench-processes.ts';
import { type Benchmark, costFigure, median, referenceFigure } from './bench-types.ts';
import { runIrcClients } from './irc-clients-run.ts';

const SIZES = {
  full: { count: 1_000, floorPasses: 2, deadlineMs: 60_000 },
  tiny: { count: 20, floorPasses: 1, deadlineMs: 20_000 },
};

const NODES = 3;
/** `IRC_CONNECTS_PER_HOST`, as the nodes run it (its default). */
const CONNECTS_PER_HOST = 8;
const GOAL_RATIO = 1.2;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

const until = (what: string, probe: () => boolean | Promise<boolean>, timeoutMs?: number) =>
  untilIn('P7', what, probe, timeoutMs);

/** The ids a node lists as registered (`GET /internal/irc/status`). */
async function liveOn(url: string, token: string): Promise<number[]> {
  const response = await fetch(`${url}/internal/irc/status`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`P7: ${url} status answered ${response.status}`);
  return ((await response.json()) as { connections: number[] }).connections;
}

/**
 * For reference (no goal): the nodes' share of a failover alone. The same count handed straight to the survivors'
 * number of freshly started nodes (in batches, as the web side sends them), with no web side, no kill and no
 * check: the time until every node lists all of its share. What the failover takes beyond it is the web side's.
 */
async function handOverToFreshNodes(count: number, deadlineMs: number): Promise<number> {
  const ircd = await startNgircd();
  const nodes: RunningProcess[] = [];
  const urls: string[] = [];
  const token = `bench-token-${Math.random().toString(36).slice(2)}-0123456789`;
  try {
    for (let index = 0; index < NODES - 1; index += 1) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const env = {
        NODE_ENV: 'production',
        INTERNAL_API_TOKEN: token,
        IRC_SERVICE_PORT: String(port),
        IRC_NODE_ID: `node-${port}`,
        IRC_CONNECTS_PER_HOST: String(CONNECTS_PER_HOST),
        LOG_LEVEL: 'warn',
      };
      nodes.push(await startSide('P7', 'src/irc-service/main.ts', url, env));
      urls.push(url);
    }
    const share = Math.ceil(count / urls.length);
    const started = performance.now();
    const requests: Array<Promise<void>> = [];
    for (const [index, url] of urls.entries()) {
      const ids = Array.from({ length: Math.min(share, count - index * share) }, (_, at) => index * share + at + 1);
      for (let from = 0; from < ids.length; from += MAX_CONNECTIONS_PER_BATCH) {
        const connections = ids
          .slice(from, from + MAX_CONNECTIONS_PER_BATCH)
          .map((serverId) => ({ serverId, host: ircd.host, port: ircd.port, nickname: `p7r${serverId}` }));
        requests.push(
          fetch(`${url}/internal/irc/connections`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ connections }),
          }).then((response) => {
            if (response.status !== 202) throw new Error(`P7: the batch hand-over answered ${response.status}`);
          }),
        );
      }
    }
    await Promise.all(requests);
    let listed = 0;
    await until(
      `${count} registered on fresh nodes`,
      async () => {
        listed = (await Promise.all(urls.map((url) => liveOn(url, token)))).flat().length;
        return listed === count;
      },
      deadlineMs,
    );
    return performance.now() - started;
  } finally {
    await Promise.all(nodes.map((node) => node.kill()));
    await ircd.dispose();
  }
}

export const failoverBenchmark: Benchmark = {
  id: 'P7',
  title: 'failover of a killed IRC service node',
  needs: ['ngircd'],
  async run({ size, progress, adminUrl }) {
    const { count, floorPasses, deadlineMs } = SIZES[size];
    const floorLimit = CONNECTS_PER_HOST * (NODES - 1);
    const floor: number[] = [];
    const runFloor = async (pass: number) => {
      progress(`P7 floor ${pass}/${floorPasses}: ${count} bare clients, ${floorLimit} in flight`);
      const bare = await runIrcClients('bare', { count, limit: floorLimit, deadlineMs });
      if (bare.registered !== count) throw new Error(`P7 floor: ${bare.registered} of ${count} registered`);
      floor.push(bare.elapsedMs);
    };
    await runFloor(1);

    const database = await createBenchDatabase(adminUrl);
    let ircd: Ngircd | undefined;
    const nodes: Array<RunningProcess | undefined> = [];
    let web: RunningProcess | undefined;
    const streams: SseClient[] = [];
    let project: number;
    let firstMs: number;
    let cpuNote = '';
    try {
      ircd = await startNgircd();
      const ports: number[] = [];
      for (let index = 0; index < NODES; index += 1) ports.push(await freePort());
      const webPort = await freePort();
      const names = ports.map((port) => `node-${port}`);
      const urls = ports.map((port) => `http://127.0.0.1:${port}`);
      const token = `bench-token-${Math.random().toString(36).slice(2)}-0123456789`;
      const env = {
        NODE_ENV: 'production',
        DATABASE_URL: database.url,
        INTERNAL_API_TOKEN: token,
        IRC_SERVICE_URLS: names.map((name, index) => `${name}=${urls[index]}`).join(','),
        IRC_CONNECTS_PER_HOST: String(CONNECTS_PER_HOST),
        PORT: String(webPort),
        LOG_LEVEL: 'warn',
      };
      const [victim, ...survivors] = names.map((name, index) => ({ name, url: urls[index]!, index }));
      const authorized = { authorization: `Bearer ${token}` };

      progress(`P7 seeding ${count} wanted servers placed on ${victim!.name}`);
      const seeded = await database.pool.query<{ id: number }>(
        `insert into servers (name, host, port, nickname, autoconnect, irc_node)
         select 'p7-' || g, $1, $2, 'p7n' || g, true, $3 from generate_series(1, $4) g returning id`,
        [ircd.host, ircd.port, victim!.name, count],
      );
      const ids = new Set(seeded.rows.map((row) => row.id));

      progress(`P7 starting ${NODES} IRC service nodes and the web side`);
      for (const [index, port] of ports.entries()) {
        nodes.push(
          await startSide('P7', 'src/irc-service/main.ts', urls[index]!, {
            ...env,
            IRC_SERVICE_PORT: String(port),
            IRC_NODE_ID: names[index],
          }),
        );
      }
      web = await startSide('P7', 'src/web/main.ts', `http://127.0.0.1:${webPort}`, env);

      progress(`P7 waiting for ${count} connections on ${victim!.name}`);
      await until(
        `${count} registered on ${victim!.name}`,
        async () => (await liveOn(victim!.url, token)).length === count,
        120_000,
      );
      // the web side has seen them (its event consumer follows every node): the rows say connected
      await until(
        'every row connected',
        async () => (await database.pool.query('select 1 from servers where connected_at is null')).rowCount === 0,
        60_000,
      );
      for (const survivor of survivors) {
        streams.push(await openSse(`${survivor.url}/internal/irc/events`, authorized));
      }
      const registeredOnSurvivors = () => {
        const seen = new Map<number, number>();
        for (const stream of streams) {
          for (const event of stream.events) {
            const id = (event.data as { serverId: number }).serverId;
            if (event.type === 'connected' && ids.has(id) && !seen.has(id)) seen.set(id, event.at);
          }
        }
        return seen;
      };

      progress(`P7 SIGKILL of ${victim!.name}; waiting for ${count} on the survivors`);
      // where the failover's CPU goes (PostgreSQL's backends are left out: other work shares that server)
      const busy = [
        { name: 'web', pid: web.child.pid },
        ...survivors.map((survivor, index) => ({ name: `node ${index + 1}`, pid: nodes[survivor.index]?.child.pid })),
        { name: 'ngircd', pid: ircd.pid },
      ].map((part) => ({ ...part, before: cpuSeconds(part.pid) }));
      const killedAt = performance.now();
      nodes[victim!.index]!.child.kill('SIGKILL');
      await until(`${count} registered on the survivors`, () => registeredOnSurvivors().size === count, deadlineMs);
      const times = [...registeredOnSurvivors().values()];
      project = Math.max(...times) - killedAt;
      firstMs = Math.min(...times) - killedAt;
      const used = busy.flatMap(({ name, pid, before }) => {
        const after = cpuSeconds(pid);
        return before === undefined || after === undefined ? [] : [`${name} ${(after - before).toFixed(1)}`];
      });
      if (used.length > 0) cpuNote = `; CPU s meanwhile: ${used.join(', ')}`;

      // the survivors' own lists agree: each of the 1,000 is registered on exactly one of them
      const lists = (await Promise.all(survivors.map((survivor) => liveOn(survivor.url, token)))).flat();
      const onSurvivors = lists.filter((id) => ids.has(id));
      if (onSurvivors.length !== count || new Set(onSurvivors).size !== count) {
        throw new Error(`P7: the survivors list ${onSurvivors.length} of the ${count} servers`);
      }
    } finally {
      for (const stream of streams) stream.close();
      await web?.kill();
      await Promise.all(nodes.map((node) => node?.kill()));
      await ircd?.dispose();
      await database.drop();
    }
    progress(`P7 for reference: ${count} handed straight to ${NODES - 1} fresh nodes, no web side`);
    const nodesAlone = await handOverToFreshNodes(count, deadlineMs);
    for (let pass = 2; pass <= floorPasses; pass += 1) await runFloor(pass);

    return [
      costFigure(
        'P7',
        `failover: ${count} connections of a killed node of ${NODES}, until registered on the others`,
        project,
        median(floor),
        'ms',
        GOAL_RATIO,
        `floor: the connect storm's bare clients, ${floorLimit} in flight (${CONNECTS_PER_HOST} per surviving node); first registered after ${firstMs.toFixed(0)} ms${cpuNote}`,
      ),
      referenceFigure(
        costFigure(
          'P7.nodes',
          `for reference: the same ${count} handed straight to ${NODES - 1} fresh nodes, no web side`,
          nodesAlone,
          median(floor),
          'ms',
          Number.POSITIVE_INFINITY,
        ),
        "the nodes' share of the failover: no kill, no check, no placement, nothing applied to the database",
      ),
    ];
  },
};
