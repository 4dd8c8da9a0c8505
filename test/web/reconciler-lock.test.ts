import { HttpResponse, http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import type { HealthCheckReport } from '../../src/shared/health-check-report.ts';
import { ConnectionHealthCheckJob } from '../../src/web/health/connection-health-check-job.ts';
import { ReconcilerLock } from '../../src/web/health/reconciler-lock.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { IrcCluster } from '../../src/web/irc-service/irc-cluster.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { eventually } from '../support/process.ts';
import { IRC_SERVICE_URL, insertServer, recordingPublisher, STATUS_URL, serverPicture, TOKEN } from './fixtures.ts';

describe('one reconciler at a time (PostgreSQL advisory lock)', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let close: () => Promise<void>;
  const locks: ReconcilerLock[] = [];

  beforeAll(async () => {
    ({ db, orm, close } = await createTestOrm());
  });
  afterEach(async () => {
    for (const lock of locks.splice(0)) await lock.close();
  });
  afterAll(() => close());

  function lock(): ReconcilerLock {
    const created = new ReconcilerLock(db.url);
    locks.push(created);
    return created;
  }

  function job(reconcilerLock: ReconcilerLock, events = recordingPublisher()) {
    const client = new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 2_000 });
    return new ConnectionHealthCheckJob({ orm, client, events, lock: reconcilerLock });
  }

  it('is held by one instance at a time', async () => {
    const first = lock();
    const second = lock();

    const held = await first.acquire();
    expect(held).not.toBeNull();
    expect(await second.acquire()).toBeNull();
    await held!.release();
    expect(await second.acquire()).not.toBeNull();
  });

  it('is shared by the checks of one instance and let go only when the last of them releases it', async () => {
    const instance = lock();
    const otherInstance = lock();

    const [first, second] = await Promise.all([instance.acquire(), instance.acquire()]);
    await first!.release();
    await first!.release();
    const whileSecondHolds = await otherInstance.acquire();
    await second!.release();

    expect(whileSecondHolds).toBeNull();
    expect(await otherInstance.acquire()).not.toBeNull();
  });

  it('a check that finds it taken reports so and changes nothing; the next one reconciles', async () => {
    const stale = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
    mswServer.use(http.get(STATUS_URL, () => HttpResponse.json({ connections: [] })));
    const otherInstance = lock();
    const held = await otherInstance.acquire();
    const events = recordingPublisher();

    const skipped = await job(lock(), events).perform();

    expect(skipped).toMatchObject({ outcome: 'answered', reconciledElsewhere: true, disconnected: [], error: null });
    expect(await serverPicture(db, stale)).toMatchObject({ connected: true, channelUsers: 1 });
    expect(events.events).toEqual([]);

    await held!.release();
    const reconciled = await job(lock(), events).perform();

    expect(reconciled).toMatchObject({ reconciledElsewhere: false, disconnected: [stale] });
    expect(await serverPicture(db, stale)).toMatchObject({ connected: false, channelUsers: 0 });
  });

  it('is freed when the holder dies (its database session ends)', async () => {
    const holder = lock();
    await holder.acquire();
    const other = lock();
    expect(await other.acquire()).toBeNull();

    await db.query(
      `select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted and pid <> pg_backend_pid()`,
    );

    await eventually(async () => (await other.acquire()) !== null);
  });

  it("is free while an instance's node checks wait for their nodes, and taken by each once its node answered", async () => {
    const nodes = ['a', 'b', 'c'];
    const answer = new Map<string, () => void>();
    const arrived = new Map<string, Promise<void>>();
    for (const node of nodes) {
      let entered: () => void = () => {};
      arrived.set(node, new Promise<void>((resolve) => (entered = resolve)));
      mswServer.use(
        http.get(`http://${node}.test/internal/irc/status`, async () => {
          const answered = new Promise<void>((resolve) => answer.set(node, resolve));
          entered();
          await answered;
          return HttpResponse.json({ node, connections: [] });
        }),
      );
    }
    const cluster = IrcCluster.fromConfig(
      nodes.map((name) => ({ name, url: `http://${name}.test` })),
      { token: TOKEN, timeoutMs: 2_000 },
    );
    const instance = new ConnectionHealthCheckJob({ orm, cluster, events: recordingPublisher(), lock: lock() });
    const otherInstance = lock();

    const checks = nodes.map((node) => instance.perform({ node }));
    await Promise.all(arrived.values());
    const whileAllAsk = await otherInstance.acquire();
    await whileAllAsk?.release();
    for (const node of nodes) answer.get(node)!();
    const reports = (await Promise.all(checks)) as HealthCheckReport[];

    expect(whileAllAsk).not.toBeNull();
    expect(reports.map((report) => report.reconciledElsewhere)).toEqual([false, false, false]);
    expect(await otherInstance.acquire()).not.toBeNull();
  });
});
