/**
 * P6: one broadcast to 1,000 SSE clients, delivery latency p50 and p99 (from the server's publish to each
 * client's socket read), through the project's EventStream served by Hono on @hono/node-server, against a
 * plain node:http fan-out writing the same bytes. The server runs in a process of its own; the clients
 * are plain node:http requests in this one, so both servers meet the same readers.
 */
import { type ClientRequest, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { forkBenchChild } from './bench-child.ts';
import {
  type BenchContext,
  type Benchmark,
  costFigure,
  median,
  pause,
  percentile,
  referenceFigure,
} from './bench-types.ts';

const SIZES = {
  full: { clients: 1_000, broadcasts: 30, passes: 2 },
  tiny: { clients: 20, broadcasts: 3, passes: 1 },
};

type ServerMessage = { type: 'listening'; port: number } | { type: 'count'; count: number };
const now = () => performance.timeOrigin + performance.now();
const FRAME = /"seq":(\d+),"sentAt":([\d.]+)/g;

interface Readers {
  /** Latency samples (ms) per broadcast seq. */
  samples: Map<number, number[]>;
  close(): void;
}

async function openReaders(port: number, count: number, progress: (message: string) => void): Promise<Readers> {
  const samples = new Map<number, number[]>();
  const requests: ClientRequest[] = [];
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/events', agent: false }, (response) => {
        if (response.statusCode !== 200) return reject(new Error(`P6: /events answered ${response.statusCode}`));
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          const receivedAt = now();
          for (const match of chunk.matchAll(FRAME)) {
            const seq = Number(match[1]);
            const list = samples.get(seq) ?? [];
            if (list.length === 0) samples.set(seq, list);
            list.push(receivedAt - Number(match[2]));
          }
        });
        response.on('error', () => {});
        resolve();
      });
      req.on('error', (error) => reject(error));
      req.end();
      requests.push(req);
    });
  // in batches: a burst of 1,000 connects overflows the listen backlog and waits for SYN retries
  for (let opened = 0; opened < count; opened += 100) {
    progress(`P6 opening SSE clients ${opened}/${count}`);
    await Promise.all(Array.from({ length: Math.min(100, count - opened) }, open));
  }
  return {
    samples,
    close() {
      for (const req of requests) req.destroy();
    },
  };
}

type Mode = 'project' | 'web-stream' | 'plain';

async function measure(mode: Mode, sizes: (typeof SIZES)['full'], { progress }: BenchContext) {
  const server = forkBenchChild<ServerMessage>('test/bench/p6-sse-server.ts', [mode]);
  const readers: Readers[] = [];
  try {
    const { port } = await server.next(
      (m): m is Extract<ServerMessage, { type: 'listening' }> => m.type === 'listening',
    );
    const reader = await openReaders(port, sizes.clients, progress);
    readers.push(reader);
    // wait (bounded) until the server holds every stream
    for (let attempt = 0; attempt < 100; attempt += 1) {
      server.send({ type: 'count' });
      const { count } = await server.next((m): m is Extract<ServerMessage, { type: 'count' }> => m.type === 'count');
      if (count === sizes.clients) break;
      if (attempt === 99) throw new Error(`P6 ${mode}: ${count} of ${sizes.clients} streams open`);
      await pause(50);
    }
    /** Per counted broadcast: the p50 and p99 over its clients. */
    const perBroadcast: Array<{ p50: number; p99: number }> = [];
    const warmup = 3;
    for (let seq = 1; seq <= warmup + sizes.broadcasts; seq += 1) {
      progress(`P6 ${mode}: broadcast ${seq}/${warmup + sizes.broadcasts}`);
      server.send({ type: 'broadcast', seq });
      const deadline = Date.now() + 5_000;
      while ((reader.samples.get(seq)?.length ?? 0) < sizes.clients) {
        if (Date.now() > deadline) {
          throw new Error(
            `P6 ${mode}: ${reader.samples.get(seq)?.length ?? 0} of ${sizes.clients} got broadcast ${seq}`,
          );
        }
        await pause(5);
      }
      const latencies = reader.samples.get(seq) ?? [];
      if (seq > warmup) perBroadcast.push({ p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
      await pause(20);
    }
    return perBroadcast;
  } finally {
    for (const reader of readers) reader.close();
    await server.stop();
  }
}

export const sseBroadcastBenchmark: Benchmark = {
  id: 'P6',
  title: 'SSE broadcast latency',
  async run(context) {
    const sizes = SIZES[context.size];
    const results: Record<Mode, Array<{ p50: number; p99: number }>> = { project: [], 'web-stream': [], plain: [] };
    const modes: Mode[] = ['project', 'plain', 'web-stream'];
    for (let pass = 0; pass < sizes.passes; pass += 1) {
      // rotate which goes first so none always meets a warmer machine
      for (const mode of [...modes.slice(pass % 3), ...modes.slice(0, pass % 3)]) {
        results[mode].push(...(await measure(mode, sizes, context)));
      }
    }
    const label = `one broadcast to ${sizes.clients} SSE clients`;
    const at = (mode: Mode, key: 'p50' | 'p99') => median(results[mode].map((broadcast) => broadcast[key]));
    return [
      costFigure(
        'P6.p99',
        `${label}, p99`,
        at('project', 'p99'),
        at('plain', 'p99'),
        'ms',
        1.2,
        `median over ${results.project.length} broadcasts; the route passes c.env (frames to Node's response)`,
      ),
      referenceFigure(
        costFigure('P6.p50', `${label}, p50`, at('project', 'p50'), at('plain', 'p50'), 'ms', 1.2),
        'for reference; the goal is on p99',
      ),
      referenceFigure(
        costFigure(
          'P6.p99-web-stream',
          `${label}, p99, through a web ReadableStream`,
          at('web-stream', 'p99'),
          at('plain', 'p99'),
          'ms',
          1.2,
        ),
        'for reference: a route that does not pass c.env',
      ),
    ];
  },
};
