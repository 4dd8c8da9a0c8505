/**
 * P6's server, in a process of its own: `project` serves the project's EventStream through Hono on
 * @hono/node-server (`web-stream`: without the Node fast path); `plain` is the floor, a node:http fan-out writing the same
 * bytes to every response. The parent sends `{ type: 'broadcast', seq }` and reads `sentAt` in each frame.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { EventStream, SSE_HEADERS } from '../../src/shared/sse/event-stream.ts';

type Mode = 'project' | 'web-stream' | 'plain';
const mode = process.argv[2] as Mode;
if (mode !== 'project' && mode !== 'web-stream' && mode !== 'plain') {
  throw new Error(`p6-sse-server: unknown mode ${mode}`);
}

interface TickMap {
  'server-status': { serverId: number; connected: boolean; connectedAt: string | null; seq: number; sentAt: number };
}

const now = () => performance.timeOrigin + performance.now();
const payload = (seq: number) => ({
  serverId: 4_242,
  connected: false,
  connectedAt: null,
  seq,
  sentAt: now(),
});

let broadcast: (seq: number) => void;
let clientCount: () => number;
let port: number;

if (mode !== 'plain') {
  const events = new EventStream<TickMap>({ heartbeatMs: 0 });
  const app = new Hono();
  // `project` passes the context's env as the IRC service's route does (frames go to Node's response);
  // `web-stream` leaves it out, which serves every client through a web ReadableStream
  const env = (c: { env: unknown }) => (mode === 'project' ? c.env : undefined);
  app.get('/events', (c) => events.response(c.req.header('last-event-id'), env(c)));
  port = await new Promise<number>((resolve) => {
    serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(info.port));
  });
  broadcast = (seq) => events.publish('server-status', payload(seq));
  clientCount = () => events.clientCount;
} else {
  const responses = new Set<ServerResponse>();
  let id = 0;
  const server = createServer((request, response) => {
    response.writeHead(200, SSE_HEADERS);
    response.write('retry: 1000\n\n');
    responses.add(response);
    request.on('close', () => responses.delete(response));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
  broadcast = (seq) => {
    id += 1;
    const frame = Buffer.from(`id: plain-${id}\nevent: server-status\ndata: ${JSON.stringify(payload(seq))}\n\n`);
    for (const response of responses) response.write(frame);
  };
  clientCount = () => responses.size;
}

process.on('message', (message: { type: string; seq?: number }) => {
  if (message.type === 'broadcast') broadcast(message.seq ?? 0);
  if (message.type === 'count') process.send?.({ type: 'count', count: clientCount() });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'listening', port });
