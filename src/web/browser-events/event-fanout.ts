/** Carries browser events between web instances over PostgreSQL LISTEN/NOTIFY. */
import pg from 'pg';
import type { Logger } from '../../logger.ts';
import { backoffDelay } from '../../shared/backoff.ts';
import type { EventStream } from '../../shared/sse/event-stream.ts';
import type { WebEventMap, WebEventType } from '../../shared/web-events.ts';
import type { WebEventPublisher } from './web-event-publisher.ts';

/** The PostgreSQL channel that carries browser events between web instances. */
export const FANOUT_CHANNEL = 'irc_supervisor_events';

/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more; batches stay below with room to spare. */
const MAX_PAYLOAD_BYTES = 7_800;

/**
 * Events about this instance alone are not fanned out: its own supervisor's health, and the connection
 * states, which every instance follows on its own IRC event stream and keeps in its own memory (fanned
 * out, each browser would get every change once per instance); so is each IRC service node's state, which
 * every instance's own checks find.
 */
const LOCAL_TYPES = new Set<WebEventType>(['health', 'reset', 'connection-state', 'node-status']);

type FannedEvent = [type: WebEventType, payload: unknown];

export interface EventFanoutOptions {
  /** The database every web instance shares. */
  url: string;
  /** This instance's `/events` stream. */
  stream: EventStream<WebEventMap>;
  logger: Logger;
  /** First and longest wait before the listener connects again; doubled each failure, with jitter. */
  retry?: { initialMs: number; maxMs: number };
}

/**
 * Broadcasts browser events to the `/events` streams of every web instance through PostgreSQL
 * LISTEN/NOTIFY. Events published in one tick go out batched, each NOTIFY under the payload limit.
 * Each instance listens on a connection of its own and republishes what arrives on its stream, its own
 * events included, so every browser sees each change once whichever instance made it. When the listener
 * loses its connection, browsers get `reset` (reload from the API) once it is back, since events may have
 * been missed meanwhile. If a NOTIFY fails, the events go to this instance's browsers at least.
 */
export class PostgresEventFanout implements WebEventPublisher {
  private readonly notifier: pg.Pool;
  private listener: pg.Client | undefined;
  private queue: FannedEvent[] = [];
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: EventFanoutOptions) {
    this.notifier = new pg.Pool({ connectionString: options.url, max: 1 });
    this.notifier.on('error', (error) => options.logger.warn({ err: error.message }, 'event fan-out: notifier'));
  }

  get position(): string {
    return this.options.stream.position;
  }

  /** Connects the listener; resolves once it listens, or once its first attempt failed (it keeps retrying). */
  async start(): Promise<void> {
    await this.listen(0);
  }

  publish<T extends WebEventType>(type: T, payload: WebEventMap[T]): void {
    if (LOCAL_TYPES.has(type)) {
      this.options.stream.publish(type, payload);
      return;
    }
    this.queue.push([type, payload]);
    this.flushing ??= Promise.resolve().then(() => this.flush());
  }

  /** Sends what is queued, then closes both connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.flushing;
    await this.listener?.end().catch(() => undefined);
    await this.notifier.end().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const events = this.queue;
      this.queue = [];
      for (const batch of batches(events)) {
        try {
          await this.notifier.query('select pg_notify($1, $2)', [FANOUT_CHANNEL, batch.json]);
        } catch (error) {
          this.options.logger.warn({ err: (error as Error).message }, 'event fan-out: NOTIFY failed; local only');
          this.deliver(batch.events);
        }
      }
    }
    this.flushing = undefined;
  }

  private deliver(events: FannedEvent[]): void {
    for (const [type, payload] of events) this.options.stream.publish(type, payload as never);
  }

  private async listen(attempt: number): Promise<void> {
    const { url, logger } = this.options;
    const client = new pg.Client({ connectionString: url });
    client.on('error', (error) => logger.warn({ err: error.message }, 'event fan-out: listener lost'));
    client.on('notification', (message) => {
      if (message.channel !== FANOUT_CHANNEL || !message.payload) return;
      try {
        this.deliver(JSON.parse(message.payload) as FannedEvent[]);
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'event fan-out: unreadable notification');
      }
    });
    try {
      await client.connect();
      await client.query(`listen ${FANOUT_CHANNEL}`);
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'event fan-out: cannot listen; retrying');
      await client.end().catch(() => undefined);
      this.scheduleListen(attempt + 1);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    client.once('end', () => {
      if (this.listener === client) this.listener = undefined;
      this.scheduleListen(1);
    });
    // after a gap, browsers may have missed events: they reload what they show
    if (attempt > 0) this.options.stream.publish('reset', {});
  }

  private scheduleListen(attempt: number): void {
    if (this.stopped) return;
    const { initialMs, maxMs } = this.options.retry ?? { initialMs: 200, maxMs: 5_000 };
    // jittered, so that web instances which lost the database together do not all reconnect at once
    const delay = backoffDelay({ attempt, baseMs: initialMs, maxMs, random: Math.random() });
    this.reconnectTimer = setTimeout(() => void this.listen(attempt), delay);
  }
}

/** Splits events into NOTIFY payloads under the limit, in order. */
function batches(events: FannedEvent[]): Array<{ events: FannedEvent[]; json: string }> {
  const result: Array<{ events: FannedEvent[]; json: string }> = [];
  let current: FannedEvent[] = [];
  let parts: string[] = [];
  let bytes = 2;
  const close = () => {
    if (current.length > 0) result.push({ events: current, json: `[${parts.join(',')}]` });
    current = [];
    parts = [];
    bytes = 2;
  };
  for (const event of events) {
    const json = JSON.stringify(event);
    const size = Buffer.byteLength(json) + 1;
    if (bytes + size > MAX_PAYLOAD_BYTES) close();
    current.push(event);
    parts.push(json);
    bytes += size;
  }
  close();
  return result;
}
