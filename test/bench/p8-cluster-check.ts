/**
 * P8: one check of a cluster. 10,000 servers, all wanted and live, spread over three IRC service nodes by
 * rendezvous placement; the health supervisor checks every node at once as it runs (one child per node, each
 * node's check under the shared reconciler lock, with the reconciler), and `checkNow()` answers when all three
 * did. The floor is the same check of one node holding every server: the same supervisor, job, lock and
 * reconciler over a one-node cluster. Each node answers from a stub client (no HTTP), so the figure is what
 * three checks cost the web side and its database over one.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { WebEventPublisher } from '../../src/web/browser-events/web-event-publisher.ts';
import { ConnectionHealthCheckJob } from '../../src/web/health/connection-health-check-job.ts';
import { HealthSupervisor } from '../../src/web/health/health-supervisor.ts';
import { ReconcilerLock } from '../../src/web/health/reconciler-lock.ts';
import { IrcCluster, IrcNode } from '../../src/web/irc-service/irc-cluster.ts';
import { placeOnNode } from '../../src/web/irc-service/rendezvous-placement.ts';
import { WantedConnections } from '../../src/web/servers/wanted-connections.ts';
import { type BenchDatabase, createBenchDatabase, seedConnectedServers } from './bench-database.ts';
import { type Benchmark, costFigure, median } from './bench-types.ts';

const SIZES = {
  full: { servers: 10_000, channelsPerServer: 2, usersPerChannel: 2, repeats: 20 },
  tiny: { servers: 30, channelsPerServer: 1, usersPerChannel: 1, repeats: 2 },
};

const MAX_RATIO = 1.3;
const CLUSTER = ['a', 'b', 'c'];
const SOLO = ['solo'];

/** A reconciler that would have to ask a node for something: the steady state never does. */
const refusingNode = {
  connect: () => Promise.reject(new Error('P8: the steady state asked a node to connect')),
  disconnect: () => Promise.reject(new Error('P8: the steady state asked a node to disconnect')),
  join: () => Promise.reject(new Error('P8: the steady state asked a node to join')),
  part: () => Promise.reject(new Error('P8: the steady state asked a node to part')),
};

const silentPublisher: WebEventPublisher = {
  position: 'bench-0',
  publish: (type) => {
    // the supervisor tells browsers of each check (its state, its report); a server's change would be a bug
    if (type !== 'health') throw new Error(`P8: a steady-state check published ${type}`);
  },
};

/** Every server wanted and placed on its rendezvous node among `nodes`; answers each node's live list. */
async function placeServers(pool: pg.Pool, ids: readonly number[], nodes: readonly string[]) {
  const placement = ids.map((id) => placeOnNode(id, nodes) as string);
  await pool.query(
    `update servers set autoconnect = true, irc_node = placed.node
     from unnest($1::int[], $2::text[]) as placed(id, node) where servers.id = placed.id`,
    [ids, placement],
  );
  await pool.query('vacuum analyze servers');
  return new Map(nodes.map((node) => [node, ids.filter((_, index) => placement[index] === node)]));
}

/** The web side's supervisor over these nodes, as main.ts assembles it, each node answering its own list. */
async function assembleSupervisor(database: BenchDatabase, live: Map<string, number[]>) {
  const nodes = [...live.keys()].map(
    (name) =>
      new IrcNode(
        `http://${name}.bench`,
        { ...refusingNode, status: async () => ({ node: name, connections: live.get(name) ?? [] }) },
        name,
      ),
  );
  const cluster = new IrcCluster(nodes);
  const lock = new ReconcilerLock(database.url);
  const wanted = new WantedConnections({ orm: database.orm, cluster, staggerMs: 0 });
  const job = new ConnectionHealthCheckJob({ orm: database.orm, cluster, lock, wanted, events: silentPublisher });
  const supervisor = new HealthSupervisor({
    job,
    events: silentPublisher,
    intervalMs: 3_600_000,
    failureThreshold: 3,
  });
  return {
    supervisor,
    async close() {
      await supervisor.stop();
      await lock.close();
    },
  };
}

export const clusterCheckBenchmark: Benchmark = {
  id: 'P8',
  title: 'check of a cluster',
  async run({ size, progress, adminUrl }) {
    const sizes = SIZES[size];
    const databases: BenchDatabase[] = [];
    const supervisors: Array<Awaited<ReturnType<typeof assembleSupervisor>>> = [];
    try {
      const setups = { project: CLUSTER, floor: SOLO };
      const running = new Map<'project' | 'floor', HealthSupervisor>();
      for (const [which, nodes] of Object.entries(setups) as Array<['project' | 'floor', string[]]>) {
        progress(`P8 seeding ${sizes.servers} servers on ${nodes.length} node(s)`);
        const database = await createBenchDatabase(adminUrl);
        databases.push(database);
        const ids = await seedConnectedServers(database.pool, sizes);
        const assembled = await assembleSupervisor(database, await placeServers(database.pool, ids, nodes));
        supervisors.push(assembled);
        // the supervisor's own first check (on start) warms the path up
        assembled.supervisor.start();
        running.set(which, assembled.supervisor);
      }
      const times = { project: [] as number[], floor: [] as number[] };
      for (let round = 0; round <= sizes.repeats; round += 1) {
        progress(`P8 round ${round}/${sizes.repeats}`);
        const order = round % 2 === 0 ? (['project', 'floor'] as const) : (['floor', 'project'] as const);
        for (const which of order) {
          const started = performance.now();
          const report = await running.get(which)!.checkNow();
          const elapsed = performance.now() - started;
          if (report.error || report.disconnected.length > 0 || report.kept.length !== sizes.servers) {
            throw new Error(`P8: the ${which} check did not keep every server: ${JSON.stringify(report.error)}`);
          }
          if (round > 0) times[which].push(elapsed);
        }
      }
      return [
        costFigure(
          'P8',
          `one check of ${CLUSTER.length} nodes, ${sizes.servers} servers placed over them`,
          median(times.project),
          median(times.floor),
          'ms',
          MAX_RATIO,
          'floor: one check of one node holding every server (same supervisor, lock and reconciler)',
        ),
      ];
    } finally {
      for (const assembled of supervisors) await assembled.close();
      for (const database of databases) await database.drop();
    }
  },
};
