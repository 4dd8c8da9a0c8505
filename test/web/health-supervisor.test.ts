import { HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import type { HealthCheckReport } from '../../src/shared/health-check-report.ts';
import { HealthSupervisor, HealthSupervisorNotRunning } from '../../src/web/health/health-supervisor.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { healthReport } from '../support/health-report.ts';
import { mswServer } from '../support/msw.ts';
import { insertServer, recordingPublisher, STATUS_URL, serverPicture } from './fixtures.ts';
import { assembleWeb } from './web-harness.ts';

describe('health supervisor (wired to the real check)', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let closeDatabase: () => Promise<void>;
  let closeWeb: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    ({ db, orm, close: closeDatabase } = await createTestOrm());
  });
  afterEach(async () => {
    await closeWeb?.();
    closeWeb = undefined;
    await closeDatabase();
  });

  function assemble(options?: Parameters<typeof assembleWeb>[1]) {
    const web = assembleWeb(orm, options);
    closeWeb = web.close;
    return web;
  }

  it('stays idle until started: no check runs and checkNow is refused', async () => {
    const serverId = await insertServer(db);
    const { supervisor } = assemble();

    await expect(supervisor.checkNow()).rejects.toBeInstanceOf(HealthSupervisorNotRunning);

    expect(supervisor.state).toBe('idle');
    expect(supervisor.lastReport).toBeNull();
    expect(await serverPicture(db, serverId)).toMatchObject({ connected: true });
  });

  it('checks on start and is healthy when the service answers', async () => {
    const stale = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
    mswServer.use(http.get(STATUS_URL, () => HttpResponse.json({ connections: [] })));
    const { supervisor } = assemble();

    supervisor.start();
    const report = await supervisor.checkNow();

    expect(supervisor.state).toBe('healthy');
    expect(supervisor.lastReport).toEqual(report);
    expect(report.disconnected).toEqual([stale]);
    expect(await serverPicture(db, stale)).toMatchObject({ connected: false, channelUsers: 0 });
  });

  it('answers concurrent checkNow calls with one shared check', async () => {
    let requests = 0;
    mswServer.use(
      http.get(STATUS_URL, () => {
        requests += 1;
        return HttpResponse.json({ connections: [] });
      }),
    );
    const { supervisor } = assemble();
    supervisor.start();
    await supervisor.checkNow();
    requests = 0;

    const [first, second, third] = await Promise.all([
      supervisor.checkNow(),
      supervisor.checkNow(),
      supervisor.checkNow(),
    ]);

    expect(requests).toBe(1);
    expect(second).toBe(first);
    expect(third).toBe(first);
  });

  it('disconnects every connected server at the failure threshold of unknown results, not before', async () => {
    const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
    mswServer.use(http.get(STATUS_URL, () => new HttpResponse(null, { status: 503 })));
    const { supervisor } = assemble({ failureThreshold: 3 });
    supervisor.start();

    const first = await supervisor.checkNow();
    const second = await supervisor.checkNow();
    const afterTwo = await serverPicture(db, serverId);
    const third = await supervisor.checkNow();

    expect([first, second, third].map((report) => report.outcome)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(afterTwo).toMatchObject({ connected: true, channelUsers: 1 });
    expect(third).toMatchObject({ treatedAsUnavailable: true, disconnected: [serverId] });
    expect(await serverPicture(db, serverId)).toMatchObject({ connected: false, channelUsers: 0 });
    expect(supervisor.state).toBe('degraded');
  });

  it('is degraded on a 401 and changes nothing', async () => {
    const serverId = await insertServer(db);
    const before = await serverPicture(db, serverId);
    mswServer.use(http.get(STATUS_URL, () => HttpResponse.json({ error: 'no' }, { status: 401 })));
    const { supervisor } = assemble();
    supervisor.start();

    const report = await supervisor.checkNow();

    expect(report.outcome).toBe('unauthorized');
    expect(supervisor.state).toBe('degraded');
    expect(await serverPicture(db, serverId)).toEqual(before);
  });

  it('publishes a health event on each state change', async () => {
    const events = recordingPublisher();
    let finish: (report: HealthCheckReport) => void = () => {};
    const supervisor = new HealthSupervisor({
      job: { perform: () => new Promise<HealthCheckReport>((resolve) => (finish = resolve)) },
      events,
      intervalMs: 3_600_000,
      failureThreshold: 3,
    });
    closeWeb = () => supervisor.stop();

    supervisor.start();
    const checked = supervisor.checkNow();
    finish(healthReport('unavailable', { checkedAt: '2026-01-01T00:00:01.000Z' }));
    await checked;

    expect(events.events.map((event) => event.payload)).toEqual([
      expect.objectContaining({ state: 'checking', checkedAt: null }),
      expect.objectContaining({ state: 'degraded', checkedAt: '2026-01-01T00:00:01.000Z', outcome: 'unavailable' }),
    ]);
  });

  it('lists a check that failed outright as failed, with its reason, beside the checks that reported', async () => {
    const events = recordingPublisher();
    let fail = false;
    const supervisor = new HealthSupervisor({
      job: {
        perform: () =>
          fail
            ? Promise.reject(new Error('the database is down'))
            : Promise.resolve(healthReport('answered', { checkedAt: '2026-01-01T00:00:01.000Z' })),
      },
      events,
      intervalMs: 3_600_000,
      failureThreshold: 3,
    });
    closeWeb = () => supervisor.stop();
    supervisor.start();
    await supervisor.checkNow();

    fail = true;
    await expect(supervisor.checkNow()).rejects.toThrow('the database is down');

    expect(supervisor.recent).toEqual([
      expect.objectContaining({ outcome: 'failed', error: 'the database is down', disconnected: 0 }),
      expect.objectContaining({ outcome: 'answered', checkedAt: '2026-01-01T00:00:01.000Z' }),
    ]);
    expect(events.events.at(-1)?.payload).toMatchObject({ state: 'degraded', recent: supervisor.recent });
  });

  it('stop() lets the running check finish, then stops', async () => {
    const stale = await insertServer(db);
    let answer: () => void = () => {};
    let entered: () => void = () => {};
    const requestArrived = new Promise<void>((resolve) => (entered = resolve));
    mswServer.use(
      http.get(STATUS_URL, async () => {
        const answered = new Promise<void>((resolve) => (answer = resolve));
        entered();
        await answered;
        return HttpResponse.json({ connections: [] });
      }),
    );
    const { supervisor } = assemble();
    supervisor.start();
    const running = supervisor.checkNow();

    const stopped = supervisor.stop();
    await expect(supervisor.checkNow()).rejects.toBeInstanceOf(HealthSupervisorNotRunning);
    await requestArrived;
    expect(supervisor.state).toBe('checking');
    answer();
    await stopped;

    expect((await running).disconnected).toEqual([stale]);
    expect(supervisor.state).toBe('stopped');
    expect(await serverPicture(db, stale)).toMatchObject({ connected: false });
  });

  it('stop() does not wait for a hung check longer than maxWaitMs', async () => {
    const supervisor = new HealthSupervisor({
      job: { perform: () => new Promise<HealthCheckReport>(() => {}) },
      events: recordingPublisher(),
      intervalMs: 3_600_000,
      failureThreshold: 3,
    });
    supervisor.start();
    const waiting = supervisor.checkNow();

    await supervisor.stop({ maxWaitMs: 20 });

    expect(supervisor.state).toBe('stopped');
    await expect(waiting).rejects.toBeInstanceOf(HealthSupervisorNotRunning);
  });

  describe('with several IRC service nodes', () => {
    /** A job over nodes a, b, c whose checks answer from `outcomes`, recording which node each checked. */
    function clusterSupervisor(outcomes: Record<string, 'answered' | 'unavailable'>) {
      const checked: string[] = [];
      const events = recordingPublisher();
      const supervisor = new HealthSupervisor({
        job: {
          nodes: ['a', 'b', 'c'].map((key) => ({ key, name: key })),
          perform: async ({ node } = {}) => {
            checked.push(node ?? 'all');
            return healthReport(outcomes[node!]!, { kept: [{ a: 1, b: 2, c: 3 }[node as 'a' | 'b' | 'c']] });
          },
        },
        events,
        intervalMs: 3_600_000,
        failureThreshold: 3,
      });
      closeWeb = () => supervisor.stop();
      return { supervisor, checked, events };
    }

    it('checks every node apart, answers their reports combined and is degraded while one of them is down', async () => {
      const { supervisor, checked, events } = clusterSupervisor({ a: 'answered', b: 'unavailable', c: 'answered' });
      supervisor.start();

      const report = await supervisor.checkNow();

      // the checks of the start, still running, serve the request
      expect(checked.sort()).toEqual(['a', 'b', 'c']);
      expect(report).toMatchObject({ outcome: 'unavailable', kept: [1, 2, 3] });
      expect(supervisor.state).toBe('degraded');
      expect(supervisor.nodes).toEqual([
        expect.objectContaining({
          name: 'a',
          state: 'healthy',
          lastCheck: expect.objectContaining({ outcome: 'answered' }),
        }),
        expect.objectContaining({
          name: 'b',
          state: 'degraded',
          lastCheck: expect.objectContaining({ outcome: 'unavailable' }),
        }),
        expect.objectContaining({ name: 'c', state: 'healthy' }),
      ]);
      expect(events.events.at(-1)?.payload).toMatchObject({ state: 'degraded', nodes: supervisor.nodes });
    });

    it('checks only the node whose event stream dropped', async () => {
      const { supervisor, checked } = clusterSupervisor({ a: 'answered', b: 'answered', c: 'answered' });
      supervisor.start();
      await supervisor.checkNow();
      checked.length = 0;
      const before = supervisor.nodes.find((node) => node.name === 'b')?.lastCheck;

      supervisor.requestCheck('b');
      // b's check has ended (its record is a new one) and the cluster is healthy again
      await vi.waitFor(() => {
        expect(supervisor.nodes.find((node) => node.name === 'b')?.lastCheck).not.toBe(before);
        expect(supervisor.state).toBe('healthy');
      });

      expect(checked).toEqual(['b']);
    });
  });
});
