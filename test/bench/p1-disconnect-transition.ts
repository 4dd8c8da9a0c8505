/**
 * P1: the disconnect transition for 1 / 1,000 / 10,000 stale of 10,000 servers (10 channels each, 10
 * users per channel: 1,000,000 channel users), through the project's own code path, against three raw
 * set-based statements in one transaction (the floor), and the per-server way for comparison.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { disconnectServers } from '../../src/web/servers/disconnect-transition.ts';
import { createBenchDatabase, restoreServers, seedConnectedServers } from './bench-database.ts';
import { type BenchFigure, type Benchmark, costFigure, median } from './bench-types.ts';

const SIZES = {
  full: { servers: 10_000, channelsPerServer: 10, usersPerChannel: 10, stale: [1, 1_000, 10_000], repeats: 5 },
  tiny: { servers: 20, channelsPerServer: 2, usersPerChannel: 2, stale: [1, 10], repeats: 1 },
};

/** Every `step`-th id: the stale servers are spread over the table, as they would be. */
function spreadIds(total: number, count: number): number[] {
  const step = Math.max(1, Math.floor(total / count));
  return Array.from({ length: count }, (_, index) => index * step + 1);
}

async function rawTransition(pool: pg.Pool, checkStartedAt: Date, liveIds: number[]): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ id: number }>(
      `update servers set connected_at = null, updated_at = now()
       where connected_at is not null and connected_at < $1 and id <> all($2::int[]) returning id`,
      [checkStartedAt, liveIds],
    );
    const ids = rows.map((row) => row.id);
    await client.query('update channels set joined = false where server_id = any($1::int[]) and joined', [ids]);
    await client.query(
      `delete from channel_users using channels
       where channel_users.channel_id = channels.id and channels.server_id = any($1::int[])`,
      [ids],
    );
    await client.query('commit');
    return ids.length;
  } finally {
    client.release();
  }
}

async function perServerTransition(pool: pg.Pool, ids: number[]): Promise<void> {
  const client = await pool.connect();
  try {
    for (const id of ids) {
      await client.query('begin');
      await client.query('update servers set connected_at = null where id = $1', [id]);
      await client.query('update channels set joined = false where server_id = $1', [id]);
      await client.query(
        'delete from channel_users using channels where channel_users.channel_id = channels.id and channels.server_id = $1',
        [id],
      );
      await client.query('commit');
    }
  } finally {
    client.release();
  }
}

export const disconnectTransitionBenchmark: Benchmark = {
  id: 'P1',
  title: 'disconnect transition',
  async run({ size, progress, adminUrl }) {
    const sizes = SIZES[size];
    const database = await createBenchDatabase(adminUrl);
    const figures: BenchFigure[] = [];
    try {
      progress(
        `P1 seeding ${sizes.servers} servers, ${sizes.servers * sizes.channelsPerServer} channels, ` +
          `${sizes.servers * sizes.channelsPerServer * sizes.usersPerChannel} channel users`,
      );
      await seedConnectedServers(database.pool, sizes);
      const allIds = Array.from({ length: sizes.servers }, (_, index) => index + 1);

      for (const staleCount of sizes.stale) {
        const stale = spreadIds(sizes.servers, staleCount);
        const staleSet = new Set(stale);
        const liveIds = allIds.filter((id) => !staleSet.has(id));
        const project: number[] = [];
        const floor: number[] = [];
        const perServer: number[] = [];
        // a few milliseconds each: more rounds steady the median
        const repeats = staleCount === 1 ? sizes.repeats * 4 : sizes.repeats;
        // round 0 warms both paths up (JIT, pool connections, plan caches) and is not counted
        for (let round = 0; round <= repeats; round += 1) {
          progress(`P1 ${staleCount} stale: round ${round}/${repeats}`);
          // alternate which goes first so neither always meets a warmer cache
          const order = round % 2 === 0 ? ['project', 'floor'] : ['floor', 'project'];
          for (const which of order) {
            const started = performance.now();
            if (which === 'project') {
              const disconnected = await disconnectServers(database.orm.em.fork(), {
                kind: 'stale',
                connectedBefore: new Date(),
                liveIds,
              });
              if (round > 0) project.push(performance.now() - started);
              if (disconnected.length !== staleCount) throw new Error('P1: project disconnected a wrong count');
            } else {
              const changed = await rawTransition(database.pool, new Date(), liveIds);
              if (round > 0) floor.push(performance.now() - started);
              if (changed !== staleCount) throw new Error('P1: floor disconnected a wrong count');
            }
            await restoreServers(database.pool, stale, sizes.usersPerChannel);
          }
        }
        const started = performance.now();
        await perServerTransition(database.pool, stale);
        perServer.push(performance.now() - started);
        await restoreServers(database.pool, stale, sizes.usersPerChannel);

        figures.push(
          costFigure(
            `P1.${staleCount}`,
            `disconnect transition, ${staleCount} stale of ${sizes.servers}`,
            median(project),
            median(floor),
            'ms',
            1.3,
            `per-server way: ${median(perServer).toFixed(1)} ms`,
          ),
        );
      }
    } finally {
      await database.drop();
    }
    return figures;
  },
};
