import { HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { HealthSupervisor } from '../../src/web/health/health-supervisor.ts';
import { applyIrcEvents } from '../../src/web/irc-events/irc-event-applier.ts';
import { WebMetrics } from '../../src/web/metrics/web-metrics.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { sampleValue, scrapeUntil } from '../support/prometheus.ts';
import {
  IRC_SERVICE_URL,
  insertServer,
  recordingPublisher,
  STATUS_URL,
  serverPicture,
  startConsumer,
} from './fixtures.ts';
import { assembleWeb } from './web-harness.ts';

const PASSWORD = 'correct horse battery staple';
const basic = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };

describe('GET /metrics on the web side', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let closeDatabase: () => Promise<void>;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeEach(async () => {
    ({ db, orm, close: closeDatabase } = await createTestOrm());
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await closeDatabase();
  });

  function assemble(options?: Parameters<typeof assembleWeb>[1]) {
    const web = assembleWeb(orm, options);
    cleanups.push(web.close);
    const scrape = async () => {
      const response = await web.app.request('/metrics', { headers: basic });
      expect(response.status).toBe(200);
      return response.text();
    };
    return { ...web, scrape };
  }

  it('needs WEB_PASSWORD when it is set, and answers the text exposition with it', async () => {
    const { app } = assemble({ webPassword: PASSWORD });

    const refused = await app.request('/metrics');
    const answered = await app.request('/metrics', { headers: basic });

    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain('irc_supervisor_');
    expect(answered.status).toBe(200);
    expect(answered.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await answered.text();
    expect(text).toContain('# TYPE irc_supervisor_health_checks_total counter');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
  });

  it('counts an answered check with its duration and the servers it disconnected; the state turns healthy', async () => {
    const stale = await insertServer(db);
    mswServer.use(http.get(STATUS_URL, () => HttpResponse.json({ connections: [] })));
    const { supervisor, scrape } = assemble();
    expect(sampleValue(await scrape(), 'irc_supervisor_health_supervisor_state', { state: 'idle' })).toBe(1);

    supervisor.start();
    await supervisor.checkNow();

    const text = await scrape();
    expect(await serverPicture(db, stale)).toMatchObject({ connected: false });
    expect(sampleValue(text, 'irc_supervisor_health_checks_total', { outcome: 'answered' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_health_check_duration_seconds_count')).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_health_check_disconnected_total')).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_health_supervisor_state', { state: 'healthy' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_health_supervisor_state', { state: 'idle' })).toBe(0);
    expect(sampleValue(text, 'irc_supervisor_health_supervisor_state', { state: 'checking' })).toBe(0);
  });

  it('counts a check that found the IRC service unreachable; the state turns degraded', async () => {
    await insertServer(db);
    await insertServer(db);
    mswServer.use(http.get(STATUS_URL, () => HttpResponse.error()));
    const { supervisor, scrape } = assemble();

    supervisor.start();
    await supervisor.checkNow();

    const text = await scrape();
    expect(sampleValue(text, 'irc_supervisor_health_checks_total', { outcome: 'unavailable' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_health_checks_total', { outcome: 'answered' })).toBe(0);
    expect(sampleValue(text, 'irc_supervisor_health_check_disconnected_total')).toBe(2);
    expect(sampleValue(text, 'irc_supervisor_health_supervisor_state', { state: 'degraded' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_health_supervisor_state', { state: 'healthy' })).toBe(0);
  });

  it('counts a check that failed outright (the database) as failed, with its duration', async () => {
    const metrics = new WebMetrics({ sseClients: () => 0 });
    const supervisor = new HealthSupervisor({
      job: { perform: () => Promise.reject(new Error('the database is unreachable')) },
      events: recordingPublisher(),
      intervalMs: 3_600_000,
      failureThreshold: 3,
      metrics,
    });
    cleanups.push(() => supervisor.stop());

    supervisor.start();
    await expect(supervisor.checkNow()).rejects.toThrow('the database is unreachable');

    const text = await metrics.registry.metrics();
    expect(sampleValue(text, 'irc_supervisor_health_checks_total', { outcome: 'failed' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_health_check_duration_seconds_count')).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_health_supervisor_state', { state: 'degraded' })).toBe(1);
  });

  it('counts the IRC events the consumer applied, by type', async () => {
    const serverId = await insertServer(db, { connectedAt: null });
    const frames = [
      `id: boot-1\nevent: connected\ndata: ${JSON.stringify({ serverId, nickname: 'me' })}\n\n`,
      `id: boot-2\nevent: joined\ndata: ${JSON.stringify({ serverId, channel: '#metrics' })}\n\n`,
    ];
    mswServer.use(
      // the frames once, then the stream ends (a resumed stream has nothing new): msw cannot abort an open body
      http.get(`${IRC_SERVICE_URL}/internal/irc/events`, ({ request }) => {
        const resumed = request.headers.has('last-event-id');
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            if (!resumed) for (const frame of frames) controller.enqueue(new TextEncoder().encode(frame));
            controller.close();
          },
        });
        return new HttpResponse(body, { headers: { 'Content-Type': 'text/event-stream' } });
      }),
    );
    const { events, metrics, scrape } = assemble();
    startConsumer(cleanups, {
      baseUrl: IRC_SERVICE_URL,
      apply: (events) => applyIrcEvents(orm.em.fork(), events),
      events,
      onStreamChange: () => {},
      metrics,
    });

    const text = await scrapeUntil(
      scrape,
      (scraped) => sampleValue(scraped, 'irc_supervisor_irc_events_applied_total', { type: 'joined' }) === 1,
    );
    expect(sampleValue(text, 'irc_supervisor_irc_events_applied_total', { type: 'connected' })).toBe(1);
    expect(sampleValue(text, 'irc_supervisor_irc_events_applied_total', { type: 'names' })).toBe(0);
    expect(await serverPicture(db, serverId)).toMatchObject({ connected: true, joinedChannels: 1 });
  });

  it('counts the browsers on /events at scrape time', async () => {
    const { app, scrape } = assemble();
    const browser = await app.request('/events');

    expect(sampleValue(await scrape(), 'irc_supervisor_sse_clients')).toBe(1);

    await browser.body?.cancel();
    expect(sampleValue(await scrape(), 'irc_supervisor_sse_clients')).toBe(0);
  });
});
