/**
 * (The bench's floor is the one other place that imports irc-framework: bare clients are what it measures.)
 *
 * A process of its own that opens `count` IRC connections to one server from a cold start, for P5
 * (memory per registered connection) and the connect storm (time until all are registered, how many
 * were lost). `project` goes through the IRC service's registry, client actors and per-host throttle;
 * `bare` is the floor: bare irc-framework clients behind the same in-flight limit, nothing else.
 *
 * argv: mode host port count limit nickPrefix deadlineMs. Messages to the parent: `baseline`, then
 * `registered` (or at the deadline, with the count lost), then `memory` (after GC; needs --expose-gc).
 */
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import IRC, { type Client } from 'irc-framework';
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientEvent, IrcClientInput } from '../../machines/irc-connection.machine.ts';
import { ConnectThrottle } from '../../src/irc-service/connect-throttle.ts';
import { createIrcClientActor } from '../../src/irc-service/irc-client.actor.ts';
import { IrcConnectionRegistry, type IrcEventMap } from '../../src/irc-service/irc-connection-registry.ts';
import { IrcServiceMetrics } from '../../src/irc-service/irc-metrics.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';

const [mode, host = '127.0.0.1', portText = '6667', countText = '10', limitText = '8', prefix = 'b', deadlineText] =
  process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const limit = Number(limitText);
const deadlineMs = Number(deadlineText ?? 30_000);
if (mode !== 'project' && mode !== 'bare') throw new Error(`irc-clients-child: unknown mode ${mode}`);

const send = (message: object) => process.send?.(message);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function settledMemory(): Promise<{ rss: number; heap: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('irc-clients-child needs node --expose-gc');
  for (let round = 0; round < 3; round += 1) {
    gc();
    await pause(100);
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heap: heapUsed };
}

/** The floor: irc-framework clients with at most `limit` connects in flight, no retries. */
function startBare(): { registered: () => number; lost: () => number; stop: () => void } {
  const clients: Client[] = [];
  let registered = 0;
  let lost = 0;
  let inFlight = 0;
  let next = 0;
  const admit = () => {
    while (inFlight < limit && next < count) {
      const index = next;
      next += 1;
      inFlight += 1;
      const client = new IRC.Client();
      clients.push(client);
      let done = false;
      const release = (ok: boolean) => {
        if (done) return;
        done = true;
        inFlight -= 1;
        if (ok) registered += 1;
        else lost += 1;
        admit();
      };
      client.on('registered', () => release(true));
      client.on('socket close', () => release(false));
      client.connect({
        host,
        port,
        nick: `${prefix}${index}`,
        username: `${prefix}${index}`,
        gecos: 'bench',
        auto_reconnect: false,
        version: 'irc-supervisor-bench',
      });
    }
  };
  admit();
  return {
    registered: () => registered,
    lost: () => lost,
    stop: () => {
      for (const client of clients) client.connection.end(null, true);
    },
  };
}

/**
 * For test/bench/p5-where-bytes-go.ts: the connection machine's client actor cut down to a bare irc-framework client
 * (registered and closed, nothing else), so the machine, xstate and the registry are measured apart from the
 * client actor's own handlers.
 */
function minimalClientLogic(throttle: ConnectThrottle) {
  return fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack }) => {
    const client = new IRC.Client();
    const release = throttle.admit(input.settings.host, () =>
      client.connect({
        host: input.settings.host,
        port: input.settings.port,
        nick: input.settings.nickname,
        username: input.settings.nickname,
        gecos: 'bench',
        auto_reconnect: false,
        version: 'irc-supervisor-bench',
      }),
    );
    client.on('registered', (event: { nick: string }) => {
      release();
      sendBack({ type: 'REGISTERED', nickname: event.nick } satisfies IrcClientEvent);
    });
    client.on('socket close', () => {
      release();
      sendBack({ type: 'CLOSED', reason: 'closed' } satisfies IrcClientEvent);
    });
    return () => {
      release();
      client.connection.end(null, true);
    };
  });
}

/**
 * The project: the registry with its real client actors and throttle, as the IRC service runs them (metrics on).
 * `BENCH_CONNECTION_PARTS_OFF` (`metrics`, `events`, `client`: comma-separated) leaves parts out (the client actor
 * is then cut down to a bare client), to see where the bytes go.
 */
function startProject(): { registered: () => number; lost: () => number; stop: () => void } {
  const off = new Set(process.env.BENCH_CONNECTION_PARTS_OFF?.split(',') ?? []);
  const events = new EventStream<IrcEventMap>({ heartbeatMs: 0 });
  const registry = new IrcConnectionRegistry({
    clientLogic: off.has('client')
      ? minimalClientLogic(new ConnectThrottle(limit))
      : createIrcClientActor({ throttle: new ConnectThrottle(limit) }),
    onEvent: off.has('events') ? () => {} : (event) => events.publish(event.type, event.payload as never),
    random: Math.random,
    observe: off.has('metrics') ? undefined : () => metrics.connectionObserver(),
  });
  const metrics = new IrcServiceMetrics({
    connectionStates: () => registry.connectionStates(),
    sseClients: () => events.clientCount,
  });
  for (let index = 0; index < count; index += 1) {
    registry.put(index + 1, {
      settings: { host, port, tls: false, nickname: `${prefix}${index}` },
      channels: [],
    });
  }
  return {
    registered: () => registry.registeredIds().length,
    // the machine retries a failed connect by itself: what is not registered by the deadline is lost
    lost: () => count - registry.registeredIds().length,
    stop: () => void registry.stopAll(1_000),
  };
}

send({ type: 'baseline', ...(await settledMemory()) });
const started = performance.now();
const run = mode === 'project' ? startProject() : startBare();
const deadline = started + deadlineMs;
while (run.registered() < count && performance.now() < deadline) {
  if (mode === 'bare' && run.registered() + run.lost() === count) break;
  await pause(10);
}
const elapsedMs = performance.now() - started;
const registered = run.registered();
send({ type: 'registered', registered, lost: count - registered, elapsedMs });
await pause(500);
const memory = await settledMemory();
// BENCH_HEAP_SNAPSHOT=file: a heap snapshot of the settled process (test/bench/p5-where-bytes-go.ts), written
// before the parent hears of the memory and stops this process
if (process.env.BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT);
send({ type: 'memory', ...memory, registered });
process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') {
    run.stop();
    setTimeout(() => process.exit(0), 200);
  }
});
process.on('disconnect', () => process.exit(0));
