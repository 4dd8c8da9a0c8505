/**
 * P4: `GET /internal/irc/status` with 10,000 registered connection actors, under load from autocannon in
 * a second process, against the floor: a bare Hono app answering a precomputed body of the same bytes.
 * Both are served by @hono/node-server in this process, one at a time. The IRC service runs as main.ts
 * wires it, metrics on: every actor inspected by them and `/metrics` served (scraped once before the load, to see it counts them).
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createIrcServiceApp } from '../../src/irc-service/app.ts';
import { IrcConnectionRegistry, type IrcEventMap } from '../../src/irc-service/irc-connection-registry.ts';
import { IrcServiceMetrics } from '../../src/irc-service/irc-metrics.ts';
import { listen } from '../../src/process/listen.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { runAutocannon } from './autocannon-run.ts';
import { type Benchmark, median, pause, throughputFigure } from './bench-types.ts';
import { instantlyRegisteredClient } from './fake-irc-client.ts';

const SIZES = {
  full: { actors: 10_000, connections: 20, warmupRequests: 500, durationSeconds: 5, amount: undefined, passes: 3 },
  // a fixed number of requests: autocannon's shortest duration is a whole second
  tiny: { actors: 20, connections: 2, warmupRequests: 0, durationSeconds: undefined, amount: 200, passes: 1 },
};

const TOKEN = 'bench-token-0123456789abcdef';

export const statusEndpointBenchmark: Benchmark = {
  id: 'P4',
  title: '/internal/irc/status under load',
  async run({ size, progress }) {
    const sizes = SIZES[size];
    const events = new EventStream<IrcEventMap>({ heartbeatMs: 0 });
    // stable at once: in the steady state measured here no actor has a timer about to fire (with the
    // default 10 s, all 10,000 would make their `stable` transition during the first run of load)
    let connected = 0;
    let onAllConnected = () => {};
    const allConnected = new Promise<void>((resolve) => {
      onAllConnected = resolve;
    });
    const registry = new IrcConnectionRegistry({
      clientLogic: instantlyRegisteredClient,
      onEvent: (event) => {
        if (event.type === 'connected' && ++connected === sizes.actors) onAllConnected();
      },
      timing: { stableAfterMs: 0 },
      observe: () => metrics.connectionObserver(),
    });
    const metrics = new IrcServiceMetrics({
      connectionStates: () => registry.connectionStates(),
      sseClients: () => events.clientCount,
    });
    progress(`P4 starting ${sizes.actors} connection actors`);
    for (let serverId = 1; serverId <= sizes.actors; serverId += 1) {
      registry.put(serverId, {
        settings: { host: '127.0.0.1', port: 6667, tls: false, nickname: `bench${serverId}` },
        channels: ['#bench'],
      });
    }
    await withDeadline(allConnected, 10_000, () => `P4: ${connected} of ${sizes.actors} actors connected`);
    // each actor armed its 0 ms `stable` timer on registering, before this one: they have all fired after it
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (registry.registeredIds().length !== sizes.actors) {
      throw new Error(`P4: ${registry.registeredIds().length} of ${sizes.actors} actors registered`);
    }

    const project = await listen(
      serve,
      createIrcServiceApp({ registry, events, token: TOKEN, metrics }),
      '127.0.0.1',
      0,
    );
    const floorBody = registry.statusJson();
    const floorBytes = new TextEncoder().encode(floorBody);
    const floorApp = new Hono();
    floorApp.get('/internal/irc/status', (c) => {
      c.header('Content-Type', 'application/json');
      return c.body(floorBytes, 200);
    });
    const floor = await listen(serve, floorApp, '127.0.0.1', 0);

    try {
      const url = { project: `${project.url}/internal/irc/status`, floor: `${floor.url}/internal/irc/status` };
      const headers = { authorization: `Bearer ${TOKEN}` };
      const answer = await (await fetch(url.project, { headers })).text();
      if (answer !== floorBody) throw new Error('P4: the project and the floor answer different bodies');
      const scraped = await (await fetch(`${project.url}/metrics`, { headers })).text();
      if (!scraped.includes(`irc_supervisor_connections{state="socket.registered"} ${sizes.actors}`)) {
        throw new Error('P4: /metrics does not count the registered actors');
      }

      const rates = { project: [] as number[], floor: [] as number[] };
      for (let pass = 0; pass < sizes.passes; pass += 1) {
        const order = pass % 2 === 0 ? (['project', 'floor'] as const) : (['floor', 'project'] as const);
        for (const which of order) {
          progress(`P4 ${which}: warm-up (pass ${pass + 1}/${sizes.passes})`);
          if (sizes.warmupRequests > 0) {
            await runAutocannon({
              url: url[which],
              headers,
              connections: sizes.connections,
              amount: sizes.warmupRequests,
            });
          }
          progress(`P4 ${which}: under load (pass ${pass + 1}/${sizes.passes})`);
          const result = await runAutocannon({
            url: url[which],
            headers,
            connections: sizes.connections,
            durationSeconds: sizes.durationSeconds,
            amount: sizes.amount,
          });
          if (result.non2xx > 0 || result.errors > 0 || result.requests === 0) {
            throw new Error(`P4 ${which}: ${result.non2xx} non-2xx, ${result.errors} errors of ${result.requests}`);
          }
          rates[which].push(result.requestsPerSecond);
          await pause(200);
        }
      }
      return [
        throughputFigure(
          'P4',
          `/internal/irc/status, ${sizes.actors} live actors, ${sizes.connections} connections`,
          median(rates.project),
          median(rates.floor),
          'req/s',
          0.8,
          `body ${floorBytes.byteLength} bytes; floor: the same bytes, precomputed, from a bare Hono app; ` +
            `median of ${sizes.passes} runs (project ${rates.project.map(Math.round).join(', ')}; ` +
            `floor ${rates.floor.map(Math.round).join(', ')})`,
        ),
      ];
    } finally {
      await project.close();
      await floor.close();
      await registry.stopAll(1_000);
      events.close();
    }
  },
};

/** The promise, or an error once `ms` have passed without it settling. */
async function withDeadline<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
