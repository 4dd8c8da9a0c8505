import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { readSse, type SseMessage } from '../../src/shared/sse/sse-reader.ts';

type Events = { tick: { n: number } };

async function take(response: Response, count: number): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readSse(response.body!)) {
    messages.push(message);
    if (messages.length >= count) break;
  }
  return messages;
}

describe('EventStream', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends every published event to every client with increasing ids', async () => {
    const stream = new EventStream<Events>({ bootId: 'b1', heartbeatMs: 0 });
    const first = stream.response();
    const second = stream.response();
    stream.publish('tick', { n: 1 });
    stream.publish('tick', { n: 2 });

    for (const response of [first, second]) {
      expect(await take(response, 2)).toEqual([
        { id: 'b1-1', event: 'tick', data: '{"n":1}' },
        { id: 'b1-2', event: 'tick', data: '{"n":2}' },
      ]);
    }
    stream.close();
  });

  it('replays what a client missed after its Last-Event-ID', async () => {
    const stream = new EventStream<Events>({ bootId: 'b1', heartbeatMs: 0 });
    for (const n of [1, 2, 3]) stream.publish('tick', { n });

    const messages = await take(stream.response('b1-1'), 2);

    expect(messages.map((message) => message.id)).toEqual(['b1-2', 'b1-3']);
    stream.close();
  });

  it('sends reset first when the id comes from another process or is older than the buffer', async () => {
    const stream = new EventStream<Events>({ bootId: 'b2', heartbeatMs: 0, bufferSize: 2 });
    for (const n of [1, 2, 3, 4]) stream.publish('tick', { n });

    const [fromOtherProcess] = await take(stream.response('b1-9'), 1);
    const [tooOld] = await take(stream.response('b2-1'), 1);
    const kept = await take(stream.response('b2-2'), 2);

    expect(fromOtherProcess).toMatchObject({ event: 'reset', id: 'b2-4' });
    expect(tooOld).toMatchObject({ event: 'reset', id: 'b2-4' });
    expect(kept.map((message) => message.id)).toEqual(['b2-3', 'b2-4']);
    stream.close();
  });

  it('forgets a client that leaves', async () => {
    const stream = new EventStream<Events>({ heartbeatMs: 0 });
    const response = stream.response();
    expect(stream.clientCount).toBe(1);

    await response.body!.cancel();

    expect(stream.clientCount).toBe(0);
    stream.close();
  });

  it('drops a client that stops reading once its queue is full', () => {
    const stream = new EventStream<Events>({ heartbeatMs: 0, maxQueuedFrames: 3 });
    stream.response(); // never read
    for (let n = 0; n < 10; n += 1) stream.publish('tick', { n });

    expect(stream.clientCount).toBe(0);
    stream.close();
  });

  it('writes a heartbeat comment on its interval', async () => {
    vi.useFakeTimers();
    const stream = new EventStream<Events>({ heartbeatMs: 15_000 });
    const reader = stream.response().body!.getReader();
    await reader.read(); // retry: hint

    vi.advanceTimersByTime(15_000);
    const { value } = await reader.read();

    expect(new TextDecoder().decode(value)).toBe(': heartbeat\n\n');
    stream.close();
  });

  it('sends the events of one turn of the event loop as one chunk, in order', async () => {
    const stream = new EventStream<Events>({ bootId: 'b1', heartbeatMs: 0 });
    const reader = stream.response().body!.getReader();
    await reader.read(); // retry: hint

    for (let n = 1; n <= 50; n += 1) stream.publish('tick', { n });
    await Promise.resolve(); // a later tick of the same turn
    for (let n = 51; n <= 100; n += 1) stream.publish('tick', { n });
    const { value } = await reader.read();

    const ids = [...new TextDecoder().decode(value).matchAll(/^id: (.+)$/gm)].map(([, id]) => id);
    expect(ids).toEqual(Array.from({ length: 100 }, (_, index) => `b1-${index + 1}`));
    stream.close();
  });

  it('with coalesceMs, sends an event after a quiet spell at once, and those that follow it within the time together', async () => {
    const stream = new EventStream<Events>({ bootId: 'b1', heartbeatMs: 0, coalesceMs: 60_000 });
    const reader = stream.response().body!.getReader();
    await reader.read(); // retry: hint
    const ids = async () => {
      const { value } = await reader.read();
      return [...new TextDecoder().decode(value).matchAll(/^id: (.+)$/gm)].map(([, id]) => id);
    };

    stream.publish('tick', { n: 1 });
    expect(await ids()).toEqual(['b1-1']);

    stream.publish('tick', { n: 2 });
    await new Promise((resolve) => setImmediate(resolve)); // a turn of the event loop ends
    stream.publish('tick', { n: 3 });
    stream.close(); // writes what waits
    expect(await ids()).toEqual(['b1-2', 'b1-3']);
  });

  it('with coalesceMs, writes what waits at once on close', async () => {
    const stream = new EventStream<Events>({ bootId: 'b1', heartbeatMs: 0, coalesceMs: 60_000 });
    const response = stream.response();

    stream.publish('tick', { n: 1 });
    stream.close();

    expect(await take(response, 2)).toEqual([{ id: 'b1-1', event: 'tick', data: '{"n":1}' }]);
  });

  it('gives a client that joins mid-turn each event once: the earlier ones in its replay', async () => {
    const stream = new EventStream<Events>({ bootId: 'b1', heartbeatMs: 0 });
    const early = stream.response();
    stream.publish('tick', { n: 1 });
    const late = stream.response('b1-0');
    stream.publish('tick', { n: 2 });
    await new Promise((resolve) => setImmediate(resolve));
    stream.close();

    for (const response of [early, late]) {
      expect((await take(response, 3)).map((message) => message.id)).toEqual(['b1-1', 'b1-2']);
    }
  });

  it('delivers an event published just before close', async () => {
    const stream = new EventStream<Events>({ bootId: 'b1', heartbeatMs: 0 });
    const response = stream.response();

    stream.publish('tick', { n: 1 });
    stream.close();
    stream.publish('tick', { n: 2 });

    expect(await take(response, 2)).toEqual([{ id: 'b1-1', event: 'tick', data: '{"n":1}' }]);
  });

  it('ends every stream on close', async () => {
    const stream = new EventStream<Events>({ heartbeatMs: 0 });
    const response = stream.response();

    stream.close();

    expect(await take(response, 1)).toEqual([]);
    expect(stream.clientCount).toBe(0);
  });
});

describe('EventStream served by @hono/node-server (frames written to the Node response)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Serves the stream; `watch` sees each client's Node response first. */
  async function served(
    stream: EventStream<Events>,
    watch: (outgoing: ServerResponse) => void = () => undefined,
  ): Promise<string> {
    const app = new Hono<{ Bindings: { outgoing: ServerResponse } }>();
    app.get('/events', (c) => {
      watch(c.env.outgoing);
      return stream.response(c.req.header('last-event-id'), c.env);
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if ('closeAllConnections' in server) server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  }

  async function open(url: string, headers: Record<string, string> = {}) {
    const abort = new AbortController();
    cleanups.push(() => abort.abort());
    const response = await fetch(url, { headers, signal: abort.signal });
    return { response, abort };
  }

  it('sends the SSE headers and every published event, with replay after a Last-Event-ID', async () => {
    const stream = new EventStream<Events>({ bootId: 'n1', heartbeatMs: 0 });
    cleanups.push(() => stream.close());
    const url = await served(stream);
    stream.publish('tick', { n: 1 });

    const { response } = await open(url, { 'last-event-id': 'n1-0' });
    await vi.waitFor(() => expect(stream.clientCount).toBe(1));
    stream.publish('tick', { n: 2 });

    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await take(response, 2)).toEqual([
      { id: 'n1-1', event: 'tick', data: '{"n":1}' },
      { id: 'n1-2', event: 'tick', data: '{"n":2}' },
    ]);
  });

  it('writes each client the events of one turn of the event loop in one write, in order', async () => {
    const stream = new EventStream<Events>({ bootId: 'n1', heartbeatMs: 0 });
    cleanups.push(() => stream.close());
    const writes: Array<ReturnType<typeof vi.spyOn>> = [];
    const url = await served(stream, (outgoing) => void writes.push(vi.spyOn(outgoing, 'write')));
    const clients = [await open(url), await open(url)];
    await vi.waitFor(() => expect(stream.clientCount).toBe(2));

    for (let n = 1; n <= 100; n += 1) stream.publish('tick', { n });

    for (const { response } of clients) {
      const messages = await take(response, 100);
      expect(messages.map((message) => message.id)).toEqual(
        Array.from({ length: 100 }, (_, index) => `n1-${index + 1}`),
      );
    }
    // the retry hint on connect, then the burst
    expect(writes.map((write) => write.mock.calls.length)).toEqual([2, 2]);
  });

  it('writes an event published just before close, then ends', async () => {
    const stream = new EventStream<Events>({ bootId: 'n1', heartbeatMs: 0 });
    const url = await served(stream);
    const { response } = await open(url);
    await vi.waitFor(() => expect(stream.clientCount).toBe(1));

    stream.publish('tick', { n: 1 });
    stream.close();

    expect(await take(response, 2)).toEqual([{ id: 'n1-1', event: 'tick', data: '{"n":1}' }]);
  });

  it('forgets a client that disconnects, and ends the others on close', async () => {
    const stream = new EventStream<Events>({ heartbeatMs: 0 });
    const url = await served(stream);
    const leaving = await open(url);
    const staying = await open(url);
    await vi.waitFor(() => expect(stream.clientCount).toBe(2));

    leaving.abort.abort();
    await vi.waitFor(() => expect(stream.clientCount).toBe(1));
    stream.close();

    expect(await take(staying.response, 1)).toEqual([]);
    expect(stream.clientCount).toBe(0);
  });

  it('drops a client whose socket stops reading once its queue is full', async () => {
    const stream = new EventStream<Events & { big: { text: string } }>({ heartbeatMs: 0, maxQueuedFrames: 3 });
    cleanups.push(() => stream.close());
    const { port } = new URL(await served(stream as EventStream<Events>));
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    cleanups.push(() => void socket.destroy());
    socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    socket.pause(); // never reads: the kernel buffers fill, then Node's
    await vi.waitFor(() => expect(stream.clientCount).toBe(1));

    const text = 'x'.repeat(64 * 1024);
    for (let n = 0; n < 400 && stream.clientCount > 0; n += 1) stream.publish('big', { text });

    expect(stream.clientCount).toBe(0);
  });
});
