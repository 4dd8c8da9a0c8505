/**
 * A server-sent-events broadcaster shared by both processes (`/internal/irc/events` and `/events`).
 *
 * - Each event is serialized and encoded once, and the same bytes are queued on every stream.
 * - Ids are `<bootId>-<seq>` (`event-id.ts`): unique across restarts because bootId is new in every process.
 * - A bounded buffer replays what a reconnecting client missed (`Last-Event-ID`); when that cannot be
 *   honoured (another process, or older than the buffer) the client first gets a `reset` event.
 * - One heartbeat timer for all clients keeps proxies from closing idle streams.
 * - A client that stops reading is dropped once its queue is full, so it cannot hold memory.
 * - Served by @hono/node-server (pass the Hono context's `env`), frames go straight to Node's response:
 *   a web `ReadableStream` per client costs a promise round per frame and client, which put a
 *   1,000-client broadcast's p99 at 1.3 to 1.6× a plain node:http fan-out (the SSE broadcast benchmark, test/bench/RESULTS.md).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { formatEventId, parseEventId } from './event-id.ts';

export interface EventStreamOptions {
  /** Events kept for replay. */
  bufferSize?: number;
  /** Interval of the heartbeat comment; 0 disables it. */
  heartbeatMs?: number;
  /** Frames queued for one slow client before it is dropped. */
  maxQueuedFrames?: number;
  /** Fixed boot identity (tests); random by default. */
  bootId?: string;
}

interface BufferedFrame {
  seq: number;
  frame: Uint8Array;
}

/** One connected reader, whichever way it is served. */
interface Client {
  /** Queues a frame; false when the client has stopped reading and its queue is full. */
  send(frame: Uint8Array): boolean;
  /** Ends the stream normally (shutdown). */
  end(): void;
  /** Ends the stream with an error (a dropped slow consumer). */
  fail(error: Error): void;
}

/** What @hono/node-server puts in a Hono context's `env`. */
interface NodeBindings {
  outgoing: ServerResponse;
}

function isNodeBindings(env: unknown): env is NodeBindings {
  const outgoing = (env as { outgoing?: Partial<ServerResponse> } | null | undefined)?.outgoing;
  return typeof outgoing?.writeHead === 'function' && typeof outgoing.write === 'function';
}

const encoder = new TextEncoder();
const HEARTBEAT = Buffer.from(': heartbeat\n\n');

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;

export class EventStream<EventMap extends object> {
  readonly bootId: string;
  private seq = 0;
  private readonly buffer: BufferedFrame[] = [];
  private readonly clients = new Set<Client>();
  private readonly bufferSize: number;
  private readonly maxQueuedFrames: number;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: EventStreamOptions = {}) {
    this.bootId = options.bootId ?? `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    this.bufferSize = options.bufferSize ?? 1_000;
    this.maxQueuedFrames = options.maxQueuedFrames ?? 10_000;
    const heartbeatMs = options.heartbeatMs ?? 15_000;
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.writeToAll(HEARTBEAT), heartbeatMs);
      this.heartbeat.unref();
    }
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * The id of the newest event (`<bootId>-0` before the first). A snapshot read after noting it reflects
   * every event up to it, so a client re-applies only the events after it (list-then-watch).
   */
  get position(): string {
    return this.idOf(this.seq);
  }

  publish<T extends keyof EventMap & string>(type: T, payload: EventMap[T]): string {
    this.seq += 1;
    const id = this.idOf(this.seq);
    // a Buffer (a Uint8Array to web streams): Node's sockets take it as is, a plain Uint8Array they
    // wrap in a new Buffer on every write, once per client
    const frame = Buffer.from(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(payload)}\n\n`);
    this.buffer.push({ seq: this.seq, frame });
    if (this.buffer.length > this.bufferSize) this.buffer.shift();
    this.writeToAll(frame);
    return id;
  }

  /**
   * A streaming response for one client, replaying from `lastEventId` when it can. Pass the Hono
   * context's `env`: under @hono/node-server the stream is written to Node's response directly (and the
   * returned Response only tells the adapter so); elsewhere (`app.request()` in tests) it is a web stream.
   */
  response(lastEventId?: string | null, env?: unknown): Response {
    if (isNodeBindings(env)) return this.serveNode(env.outgoing, lastEventId);
    let self: Client | undefined;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          if (this.closed) {
            controller.close();
            return;
          }
          controller.enqueue(encoder.encode('retry: 1000\n\n'));
          for (const frame of this.catchUp(lastEventId)) controller.enqueue(frame);
          self = {
            send: (frame) => {
              if ((controller.desiredSize ?? 0) <= 0) return false;
              controller.enqueue(frame);
              return true;
            },
            end: () => controller.close(),
            fail: (error) => controller.error(error),
          };
          this.clients.add(self);
        },
        cancel: () => {
          if (self) this.clients.delete(self);
        },
      },
      { highWaterMark: this.maxQueuedFrames, size: () => 1 },
    );
    return new Response(body, { headers: SSE_HEADERS });
  }

  /** Ends every stream and stops the heartbeat (shutdown). */
  close(): void {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const client of this.clients) {
      try {
        client.end();
      } catch {
        // already closed by its reader
      }
    }
    this.clients.clear();
  }

  /** The stream written to Node's response; frames past the socket's buffer count toward the queue limit. */
  private serveNode(outgoing: ServerResponse, lastEventId: string | null | undefined): Response {
    outgoing.writeHead(200, SSE_HEADERS);
    if (this.closed) {
      outgoing.end();
      return RESPONSE_ALREADY_SENT;
    }
    outgoing.write('retry: 1000\n\n');
    for (const frame of this.catchUp(lastEventId)) outgoing.write(frame);
    let queued = 0;
    const client: Client = {
      send: (frame) => {
        if (outgoing.writableNeedDrain) {
          queued += 1;
          if (queued > this.maxQueuedFrames) return false;
        }
        outgoing.write(frame);
        return true;
      },
      end: () => outgoing.end(),
      fail: (error) => outgoing.destroy(error),
    };
    outgoing.on('drain', () => {
      queued = 0;
    });
    outgoing.once('close', () => this.clients.delete(client));
    this.clients.add(client);
    return RESPONSE_ALREADY_SENT;
  }

  private idOf(seq: number): string {
    return formatEventId({ bootId: this.bootId, seq });
  }

  private catchUp(lastEventId: string | null | undefined): Uint8Array[] {
    if (!lastEventId) return [];
    const last = parseEventId(lastEventId);
    const oldest = this.buffer[0]?.seq ?? this.seq + 1;
    const honourable = last?.bootId === this.bootId && last.seq <= this.seq && last.seq >= oldest - 1;
    if (honourable) return this.buffer.filter((entry) => entry.seq > last.seq).map((entry) => entry.frame);
    return [encoder.encode(`id: ${this.position}\nevent: reset\ndata: {}\n\n`)];
  }

  private writeToAll(frame: Uint8Array): void {
    for (const client of this.clients) {
      if (client.send(frame)) continue;
      // The client has stopped reading; drop it rather than queue without bound.
      this.clients.delete(client);
      try {
        client.fail(new Error('slow consumer dropped'));
      } catch {
        // already closed
      }
    }
  }
}
