/**
 * A server-sent-events broadcaster shared by both processes (`/internal/irc/events` and `/events`).
 *
 * - Each event is serialized and encoded once, and the same bytes are queued on every stream.
 * - Ids are `<bootId>-<seq>` (`event-id.ts`): unique across restarts because bootId is new in every process.
 * - A bounded buffer replays what a reconnecting client missed (`Last-Event-ID`); when that cannot be
 *   honoured (another process, or older than the buffer) the client first gets a `reset` event.
 * - One heartbeat timer for all clients keeps proxies from closing idle streams.
 * - Frames are coalesced per turn of the event loop: a published frame is queued, the first of a turn
 *   schedules one flush (`setImmediate`, so a lone event still leaves within the turn), and the flush writes
 *   each client everything queued for it as one piece, in order. Events from separate socket reads (so
 *   separate ticks) otherwise cost one chunked write and syscall each per client, and their readers one
 *   read each (~11% of an IRC service node's CPU in the failover benchmark, P7). The turn's frames are
 *   concatenated once and the same bytes written to every client that was there the whole turn; one that
 *   joined mid-turn (after its catch-up, which goes out at once with the `retry` hint) gets the rest.
 *   With `coalesceMs`, writes are at least that far apart: a frame after a quiet spell still leaves at the end
 *   of its turn, but one that follows a write sooner waits for the next, so a burst spread over many turns (a
 *   node's registrations in a failover) leaves in a few pieces, and its reader applies it in a few steps. (The
 *   heartbeat and `close()` write what waits at once.)
 * - A client that stops reading is dropped once its queue is full, so it cannot hold memory. The unit
 *   stays the frame: a frame counts toward `maxQueuedFrames` once the frames ahead of it, queued this turn
 *   or in the socket's buffer, fill that buffer (web streams: once the stream's queue is full), as when
 *   each frame was written on its own; so a slow client is dropped as the frames are published, and a
 *   dropped client is never written again.
 * - `close()` first writes what the turn has queued, then ends every stream: nothing published before a
 *   shutdown is lost, and nothing is written after it.
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
  /**
   * The least time between two writes to the clients: a frame published after a quiet spell is written at the end
   * of the turn, as with 0 (the default); one published sooner after the last write waits until this much after it,
   * and leaves with those that followed it (a burst goes out in a few larger pieces).
   */
  coalesceMs?: number;
}

interface BufferedFrame {
  seq: number;
  frame: Buffer;
}

/** One connected reader, whichever way it is served. */
interface Client {
  /** Where its frames start in the turn's queue: 0, or the queue's length when it joined mid-turn. */
  from: number;
  /** The bytes queued this turn before it joined. */
  fromBytes: number;
  /**
   * Whether one more frame fits, after the `frames` (`bytes`) queued for it this turn; false when the
   * client has stopped reading and its queue is full.
   */
  admits(frames: number, bytes: number): boolean;
  /** Writes the turn's frames for it, in one piece. */
  write(frames: Uint8Array): void;
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

const RETRY = Buffer.from('retry: 1000\n\n');
const HEARTBEAT = Buffer.from(': heartbeat\n\n');

/** How many frames a piece written to a web stream holds; its queue limit counts frames, not pieces. */
const framesIn = new WeakMap<Uint8Array, number>();

/** The frames as one piece: the frame itself when alone, else one copy (sized for a web stream's queue). */
function joined(frames: readonly Buffer[]): Buffer {
  if (frames.length === 1) return frames[0] as Buffer;
  const piece = Buffer.concat(frames);
  framesIn.set(piece, frames.length);
  return piece;
}

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
  /** The frames published this turn, not yet written, and their bytes. */
  private turn: Buffer[] = [];
  private turnBytes = 0;
  private readonly coalesceMs: number;
  /** Cancels the scheduled flush; set while frames wait. */
  private cancelFlush: (() => void) | undefined;
  /** When frames were last written (`performance.now()`). */
  private lastFlushAt = Number.NEGATIVE_INFINITY;

  constructor(options: EventStreamOptions = {}) {
    this.bootId = options.bootId ?? `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    this.bufferSize = options.bufferSize ?? 1_000;
    this.maxQueuedFrames = options.maxQueuedFrames ?? 10_000;
    this.coalesceMs = options.coalesceMs ?? 0;
    const heartbeatMs = options.heartbeatMs ?? 15_000;
    if (heartbeatMs > 0) {
      // a timer callback is a turn of its own: the heartbeat goes out with what is queued, at once
      this.heartbeat = setInterval(() => {
        this.writeToAll(HEARTBEAT);
        this.flush();
      }, heartbeatMs);
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
          controller.enqueue(joined([RETRY, ...this.catchUp(lastEventId)]));
          self = {
            ...this.joiningNow(),
            admits: (frames) => (controller.desiredSize ?? 0) - frames > 0,
            write: (frames) => controller.enqueue(frames),
            end: () => controller.close(),
            fail: (error) => controller.error(error),
          };
          this.clients.add(self);
        },
        cancel: () => {
          if (self) this.clients.delete(self);
        },
      },
      { highWaterMark: this.maxQueuedFrames, size: (piece) => framesIn.get(piece) ?? 1 },
    );
    return new Response(body, { headers: SSE_HEADERS });
  }

  /** Writes what this turn has queued, then ends every stream and stops the heartbeat (shutdown). */
  close(): void {
    this.flush();
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

  /**
   * The stream written to Node's response; frames past the socket's buffer (with those queued this turn
   * ahead of them) count toward the queue limit.
   */
  private serveNode(outgoing: ServerResponse, lastEventId: string | null | undefined): Response {
    outgoing.writeHead(200, SSE_HEADERS);
    if (this.closed) {
      outgoing.end();
      return RESPONSE_ALREADY_SENT;
    }
    outgoing.write(joined([RETRY, ...this.catchUp(lastEventId)]));
    let queued = 0;
    const client: Client = {
      ...this.joiningNow(),
      admits: (_frames, bytes) => {
        if (outgoing.writableNeedDrain || outgoing.writableLength + bytes >= outgoing.writableHighWaterMark) {
          queued += 1;
          if (queued > this.maxQueuedFrames) return false;
        }
        return true;
      },
      // a write the socket took without backing up means it keeps up: the frames counted while they waited (this
      // turn, or through `coalesceMs`) are no backlog, and no 'drain' will come to say so
      write: (frames) => {
        if (outgoing.write(frames)) queued = 0;
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

  private catchUp(lastEventId: string | null | undefined): Buffer[] {
    if (!lastEventId) return [];
    const last = parseEventId(lastEventId);
    const oldest = this.buffer[0]?.seq ?? this.seq + 1;
    const honourable = last?.bootId === this.bootId && last.seq <= this.seq && last.seq >= oldest - 1;
    if (honourable) return this.buffer.filter((entry) => entry.seq > last.seq).map((entry) => entry.frame);
    return [Buffer.from(`id: ${this.position}\nevent: reset\ndata: {}\n\n`)];
  }

  /** A client joining now: its catch-up already holds the frames queued this turn. */
  private joiningNow(): Pick<Client, 'from' | 'fromBytes'> {
    return { from: this.turn.length, fromBytes: this.turnBytes };
  }

  private writeToAll(frame: Buffer): void {
    if (this.clients.size === 0) return;
    for (const client of this.clients) {
      if (client.admits(this.turn.length - client.from, this.turnBytes - client.fromBytes)) continue;
      // The client has stopped reading; drop it rather than queue without bound.
      this.clients.delete(client);
      try {
        client.fail(new Error('slow consumer dropped'));
      } catch {
        // already closed
      }
    }
    this.turn.push(frame);
    this.turnBytes += frame.length;
    this.cancelFlush ??= this.scheduleFlush();
  }

  /** One flush at the end of this turn, or `coalesceMs` after the last one when that is later. */
  private scheduleFlush(): () => void {
    const waitMs = this.lastFlushAt + this.coalesceMs - performance.now();
    if (waitMs <= 0) {
      const immediate = setImmediate(() => this.flush());
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(() => this.flush(), waitMs);
    return () => clearTimeout(timer);
  }

  /** Writes each client the turn's frames it has not had, in one piece; one copy per starting point. */
  private flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    const frames = this.turn;
    if (frames.length === 0) return;
    this.lastFlushAt = performance.now();
    this.turn = [];
    this.turnBytes = 0;
    const pieces = new Map<number, Buffer>();
    for (const client of this.clients) {
      const { from } = client;
      client.from = 0;
      client.fromBytes = 0;
      if (from === frames.length) continue;
      let piece = pieces.get(from);
      if (!piece) {
        piece = joined(frames.slice(from));
        pieces.set(from, piece);
      }
      try {
        client.write(piece);
      } catch {
        // closed under us (a web stream cancelled): it is gone, the others still get the turn; from a timer a
        // throw would end the process
        this.clients.delete(client);
      }
    }
  }
}
