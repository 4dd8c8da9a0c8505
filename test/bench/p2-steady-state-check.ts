/**
 * P2: one health check in the steady state, 10,000 servers connected and every one of them live, so
 * nothing changes. The project runs `ConnectionHealthCheckJob.perform()` with a stub client that answers
 * every id at once (no HTTP); the floor runs the same reads and no-op writes as raw SQL through pg in one
 * transaction. The goal is a ratio to that floor, measured in the same run: at most 1.3×.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { WebEventPublisher } from '../../src/web/browser-events/web-event-publisher.ts';
import { ConnectionHealthCheckJob } from '../../src/web/health/connection-health-check-job.ts';
import { createBenchDatabase, seedConnectedServers } from './bench-database.ts';
import { type Benchmark, costFigure, median } from './bench-types.ts';

const SIZES = {
  full: { servers: 10_000, channelsPerServer: 10, usersPerChannel: 10, repeats: 20 },
  tiny: { servers: 20, channelsPerServer: 2, usersPerChannel: 2, repeats: 2 },
};

const GOAL_RATIO = 1.3;

/** The check's SQL without the project's code: stale servers, reverse drift, the kept list. */
async function rawSteadyCheck(pool: pg.Pool, checkStartedAt: Date, liveIds: number[]): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const stale = await client.query(
      `update servers set connected_at = null, updated_at = now()
       where connected_at is not null and connected_at < $1 and id <> all($2::int[]) returning id`,
      [checkStartedAt, liveIds],
    );
    if (stale.rowCount) throw new Error('P2: the floor found stale servers');
    const marked = await client.query(
      `update servers set connected_at = $1, updated_at = now()
       where id = any($2::int[]) and connected_at is null returning id`,
      [new Date(), liveIds],
    );
    if (marked.rowCount) throw new Error('P2: the floor found reverse drift');
    const kept = await client.query('select id from servers where connected_at is not null order by id');
    await client.query('commit');
    return kept.rowCount ?? 0;
  } finally {
    client.release();
  }
}

const silentPublisher: WebEventPublisher = {
  position: 'bench-0',
  publish: () => {
    throw new Error('P2: a steady-state check published an event');
  },
};

export const steadyStateCheckBenchmark: Benchmark = {
  id: 'P2',
  title: 'steady-state health check',
  async run({ size, progress, adminUrl }) {
    const sizes = SIZES[size];
    const database = await createBenchDatabase(adminUrl);
    try {
      progress(`P2 seeding ${sizes.servers} connected servers`);
      await seedConnectedServers(database.pool, sizes);
      const liveIds = Array.from({ length: sizes.servers }, (_, index) => index + 1);
      const job = new ConnectionHealthCheckJob({
        orm: database.orm,
        client: { status: async () => ({ connections: liveIds }) },
        events: silentPublisher,
      });
      const project: number[] = [];
      const floor: number[] = [];
      // round 0 warms both paths up and is not counted
      for (let round = 0; round <= sizes.repeats; round += 1) {
        progress(`P2 round ${round}/${sizes.repeats}`);
        const order = round % 2 === 0 ? ['project', 'floor'] : ['floor', 'project'];
        for (const which of order) {
          const started = performance.now();
          if (which === 'project') {
            const report = await job.perform();
            const elapsed = performance.now() - started;
            if (report.error || report.disconnected.length > 0 || report.kept.length !== sizes.servers) {
              throw new Error(`P2: the check did not keep every server: ${JSON.stringify(report.error)}`);
            }
            if (round > 0) project.push(elapsed);
          } else {
            const kept = await rawSteadyCheck(database.pool, new Date(), liveIds);
            const elapsed = performance.now() - started;
            if (kept !== sizes.servers) throw new Error('P2: the floor did not keep every server');
            if (round > 0) floor.push(elapsed);
          }
        }
      }
      return [
        costFigure(
          'P2',
          `steady-state check, ${sizes.servers} connected, none stale`,
          median(project),
          median(floor),
          'ms',
          GOAL_RATIO,
          'floor: the same statements as raw SQL through pg',
        ),
      ];
    } finally {
      await database.drop();
    }
  },
};
