/** Follows the IRC service's event stream, resuming after drops, and applies each event. */
import type { Logger } from '../../logger.ts';
import { backoffDelay } from '../../shared/backoff.ts';
import { errorMessageWithCode } from '../../shared/error-text.ts';
import { type IrcEvent, parseIrcEvent } from '../../shared/irc-events.ts';
import { previousEventId } from '../../shared/sse/event-id.ts';
import { readSseBatches, type SseMessage } from '../../shared/sse/sse-reader.ts';
import type { WebEventPublisher } from '../browser-events/web-event-publisher.ts';
import type { IrcEventMetrics } from '../metrics/web-metrics.ts';
import { ircEventSteps, type PendingWebEvent } from './irc-event-applier.ts';

/**
 * Tries of a step whose database write keeps failing, counted by its first event: then a run is tried one event at a
 * time (its first event, which has had its tries, is skipped at its next failure), and a lone event is skipped. An
 * event after the first of a run gets its own tries once it leads the step the stream resumes with.
 */
const MAX_ATTEMPTS_PER_EVENT = 3;

/** A message of the stream read as an IRC event; none when it does not match the contract (it applies nothing). */
interface Received {
  id: string | undefined;
  event: IrcEvent | undefined;
}

/**
 * What happened to the stream: `started` (opened with nothing to resume from: whatever happened before is
 * unknown), `opened` (resumed after a drop), `dropped`, or `reset` (it could not replay what was missed).
 */
export type StreamChange = 'started' | 'opened' | 'dropped' | 'reset';

export interface IrcEventConsumerOptions {
  /** `IRC_SERVICE_URL`. */
  baseUrl: string;
  token: string;
  /**
   * Applies a step of events to the database and answers the browser events to send after it: one event (in a
   * transaction), or a run of `connection-state` and `connected` events that arrived together, set-based
   * (`applyIrcEvents`).
   */
  apply: (events: readonly IrcEvent[]) => Promise<PendingWebEvent[]>;
  events: WebEventPublisher;
  /** Called when the stream opens, drops or resets: the web side checks this node then (CHECK_NOW to its supervisor). */
  onStreamChange: (change: StreamChange) => void;
  /**
   * Called when the stream starts with nothing to resume from or is reset, and awaited before the next
   * event is applied: reads afresh what is kept only in memory (the connection states), answering the
   * browser events it causes. Events missed before can never be replayed then, so only a fresh list makes
   * that memory right again (after a restart of the web side it is empty). Its failure is logged; the
   * stream goes on, and the next start or reset lists again.
   */
  relist?: () => Promise<PendingWebEvent[]>;
  logger: Logger;
  /** First and longest wait between reconnects; doubled each failure, with jitter. */
  retry?: { initialMs: number; maxMs: number };
  fetch?: typeof fetch;
  /** Told of each event applied (`GET /metrics`). */
  metrics?: IrcEventMetrics;
}

/**
 * Follows the IRC service's `/internal/irc/events` (list-then-watch: the health check is the list, this is
 * the watch). Events are applied in order, in steps (`ircEventSteps`): the events read together (one chunk of
 * the stream) are applied as a batch, so that a burst (bench P7: a failover of 1,000 connections) costs a few
 * set-based statements instead of one per event; a lone event is still applied at once. It resumes with
 * `Last-Event-ID` from the last step it applied, so events whose database write failed are fetched again rather
 * than lost. It never throws: every failure becomes a reconnect with capped exponential backoff.
 */
export class IrcEventConsumer {
  private lastEventId: string | undefined;
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private opened = false;
  private failedEventId: string | undefined;
  private failures = 0;

  constructor(private readonly options: IrcEventConsumerOptions) {}

  /** True while the stream is open. */
  get isOpen(): boolean {
    return this.opened;
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    // capped at 1 s: the stream opening again is what brings the wanted connections back after an IRC
    // service restart (a check, then the restore), and one refused connect a second is nothing to a dead peer
    const { initialMs, maxMs } = this.options.retry ?? { initialMs: 250, maxMs: 1_000 };
    let failures = 0;
    while (!this.stopped) {
      const appliedAny = await this.followOnce();
      if (this.stopped) break;
      failures = appliedAny ? 1 : failures + 1;
      await this.sleep(backoffDelay({ attempt: failures, baseMs: initialMs, maxMs, random: Math.random() }));
    }
  }

  /** One connection of the stream, until it ends or fails; true when it got as far as opening. */
  private async followOnce(): Promise<boolean> {
    const { baseUrl, token, logger } = this.options;
    const fetchImpl = this.options.fetch ?? globalThis.fetch;
    this.abort = new AbortController();
    let reachedOpen = false;
    try {
      const response = await fetchImpl(`${baseUrl.replace(/\/+$/, '')}/internal/irc/events`, {
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'text/event-stream',
          ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}),
        },
        signal: this.abort.signal,
      });
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        throw new Error(`the IRC event stream answered ${response.status}`);
      }
      reachedOpen = true;
      const resumed = this.lastEventId !== undefined;
      this.setOpen(true, resumed);
      // listed after the stream opened: every change after the list is an event still to come on it
      if (!resumed) await this.relist();
      for await (const batch of readSseBatches(response.body)) await this.handleBatch(batch);
    } catch (error) {
      if (!this.stopped) logger.warn({ err: errorMessageWithCode(error) }, 'IRC event stream failed; reconnecting');
    } finally {
      this.setOpen(false);
    }
    return reachedOpen;
  }

  private async handleBatch(messages: readonly SseMessage[]): Promise<void> {
    let received: Received[] = [];
    for (const message of messages) {
      if (message.event !== 'reset') {
        received.push({ id: message.id, event: this.parse(message) });
        continue;
      }
      await this.applySteps(received);
      received = [];
      this.lastEventId = message.id;
      this.options.onStreamChange('reset');
      await this.relist();
    }
    await this.applySteps(received);
  }

  private parse({ event: type, data }: SseMessage): IrcEvent | undefined {
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      payload = undefined;
    }
    const event = parseIrcEvent(type, payload);
    // Not in the contract (a newer IRC service?): skipped, and said once in the log.
    if (!event) this.options.logger.warn({ type }, 'ignoring an IRC event that does not match the contract');
    return event;
  }

  private async applySteps(received: readonly Received[]): Promise<void> {
    for (const step of ircEventSteps(received, (item) => item.event)) {
      await this.applyStep(step);
      this.lastEventId = step.at(-1)?.id;
    }
  }

  private async applyStep(step: readonly Received[]): Promise<void> {
    const events = step.flatMap((item) => (item.event ? [item.event] : []));
    if (events.length === 0) return;
    let changes: PendingWebEvent[];
    try {
      changes = await this.options.apply(events);
    } catch (error) {
      // A passing failure (database down) propagates: the stream is reopened from the last applied step.
      // An event that keeps failing is skipped rather than blocking every event behind it; the check
      // that follows repairs what it would have changed.
      const id = step[0]?.id;
      this.failures = this.failedEventId === id ? this.failures + 1 : 1;
      this.failedEventId = id;
      // resume just before this step even when nothing was applied on this stream yet
      if (this.lastEventId === undefined && id) this.lastEventId = previousEventId(id);
      if (this.failures < MAX_ATTEMPTS_PER_EVENT) throw error;
      if (step.length > 1) {
        // a run that keeps failing is tried one event at a time, so that only the event that fails is skipped
        // (its first one has had its tries: it is skipped at its next failure)
        for (const item of step) {
          await this.applyStep([item]);
          this.lastEventId = item.id;
        }
        return;
      }
      this.options.logger.error(
        { type: events[0]?.type, err: errorMessageWithCode(error) },
        'skipping an IRC event that keeps failing',
      );
      this.options.onStreamChange('reset');
      return;
    }
    for (const event of events) this.options.metrics?.eventApplied(event.type);
    for (const webEvent of changes) this.options.events.publish(webEvent.type, webEvent.payload);
  }

  private async relist(): Promise<void> {
    const { relist, events, logger } = this.options;
    if (!relist || this.stopped) return;
    try {
      for (const webEvent of await relist()) events.publish(webEvent.type, webEvent.payload);
    } catch (error) {
      logger.warn(
        { err: errorMessageWithCode(error) },
        'could not list the IRC connections; their states stay as they were',
      );
    }
  }

  private setOpen(open: boolean, resumed = false): void {
    if (open === this.opened) return;
    this.opened = open;
    if (this.stopped) return;
    this.options.onStreamChange(open ? (resumed ? 'opened' : 'started') : 'dropped');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
