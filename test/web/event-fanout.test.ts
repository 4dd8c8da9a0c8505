import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { readSse, type SseMessage } from '../../src/shared/sse/sse-reader.ts';
import type { WebEventMap } from '../../src/shared/web-events.ts';
import { PostgresEventFanout } from '../../src/web/browser-events/event-fanout.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { eventually } from '../support/process.ts';

/** A web instance's broadcasting half: its own /events stream behind a fan-out on the shared database. */
async function instance(db: TestDatabase) {
  const stream = new EventStream<WebEventMap>({ heartbeatMs: 0 });
  const fanout = new PostgresEventFanout({
    url: db.url,
    stream,
    logger: createLogger('test', 'silent'),
    retry: { initialMs: 20, maxMs: 100 },
  });
  await fanout.start();
  const received: SseMessage[] = [];
  const reading = (async () => {
    for await (const message of readSse(stream.response().body!)) received.push(message);
  })();
  return {
    stream,
    fanout,
    received,
    async close() {
      await fanout.stop();
      stream.close();
      await reading;
    },
  };
}

describe('PostgresEventFanout (real PostgreSQL LISTEN/NOTIFY)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function twoInstances() {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const a = await instance(db);
    const b = await instance(db);
    cleanups.push(a.close, b.close);
    return { db, a, b };
  }

  it('delivers a change published on one instance to the browsers of both, once each', async () => {
    const { a, b } = await twoInstances();

    a.fanout.publish('server-status', { serverId: 7, connected: false, connectedAt: null });
    await eventually(() => a.received.length === 1 && b.received.length === 1);

    for (const { received } of [a, b]) {
      expect(received.map((message) => [message.event, JSON.parse(message.data)])).toEqual([
        ['server-status', { serverId: 7, connected: false, connectedAt: null }],
      ]);
    }
  });

  it('batches a burst within the payload limit and keeps its order', async () => {
    const { a, b } = await twoInstances();
    const query = vi.spyOn(pg.Pool.prototype, 'query');

    for (let serverId = 1; serverId <= 2_000; serverId += 1) {
      a.fanout.publish('server-status', { serverId, connected: false, connectedAt: null });
    }
    await eventually(() => b.received.length === 2_000, 10_000);

    expect(b.received.map((message) => JSON.parse(message.data).serverId)).toEqual(
      Array.from({ length: 2_000 }, (_, index) => index + 1),
    );
    expect(a.received).toHaveLength(2_000);
    const notifies = query.mock.calls.filter(([sql]) => String(sql).includes('pg_notify'));
    expect(notifies.length).toBeGreaterThan(1);
    expect(notifies.length).toBeLessThanOrEqual(30);
  });

  it('keeps health, connection-state and node-status events on the instance that made them', async () => {
    const { a, b } = await twoInstances();

    a.fanout.publish('health', { state: 'healthy', checkedAt: null });
    // every instance follows the IRC service's connection states itself: fanned out, browsers would get each twice
    a.fanout.publish('connection-state', { serverId: 1, connection: null });
    // and checks every node itself
    a.fanout.publish('node-status', { name: 'a', url: 'http://a', state: 'healthy', connections: 0, lastCheck: null });
    a.fanout.publish('server-removed', { serverId: 1 });
    await eventually(() => b.received.length === 1 && a.received.length === 4);

    expect(a.received.map((message) => message.event)).toEqual([
      'health',
      'connection-state',
      'node-status',
      'server-removed',
    ]);
    expect(b.received.map((message) => message.event)).toEqual(['server-removed']);
  });

  it('listens again after losing its connection, and tells browsers to reload', async () => {
    const { db, a, b } = await twoInstances();

    await db.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where datname = current_database() and query ilike 'listen%' and pid <> pg_backend_pid()`,
    );
    await eventually(() => a.received.some((message) => message.event === 'reset'));
    await eventually(() => b.received.some((message) => message.event === 'reset'));
    a.fanout.publish('server-removed', { serverId: 3 });

    await eventually(() => b.received.some((message) => message.event === 'server-removed'));
    expect(a.received.filter((message) => message.event === 'server-removed')).toHaveLength(1);
  });
});
