/**
 * Flood control of one connection: every line it writes waits its turn in a token bucket (a burst, then a
 * steady pace), in order. The few lines that must not wait go at once, outside the bucket: PING and PONG (a
 * liveness probe stuck behind a hundred JOINs would time out a healthy connection; at one per ping interval
 * they cannot flood) and the QUIT (the last line).
 */
import { TokenBucket, type TokenBucketOptions } from './token-bucket.ts';

/**
 * Defaults near soju's and well under common server limits: registration (CAP LS, PASS, NICK, USER, CAP END)
 * goes at once, then one line per 2 s. irc-framework has no flood control of its own.
 */
export const DEFAULT_FLOOD_CONTROL: TokenBucketOptions = { burst: 5, intervalMs: 2_000 };

export interface SendQueueOptions extends TokenBucketOptions {
  /** Writes one line to the socket; `done` once it is written. */
  write: (line: string, done?: () => void) => void;
  /** The clock; Date.now by default (tests use fake timers). */
  now?: () => number;
}

interface QueuedLine {
  line: string;
  done: (() => void) | undefined;
}

export class SendQueue {
  private readonly bucket: TokenBucket;
  private readonly queue: QueuedLine[] = [];
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: SendQueueOptions) {
    this.now = options.now ?? Date.now;
    this.bucket = new TokenBucket(options, this.now());
  }

  /** Lines waiting for a token. */
  get pending(): number {
    return this.queue.length;
  }

  /** Writes the line when the bucket allows, after the lines queued before it. */
  send(line: string, done?: () => void): void {
    if (this.closed) return;
    this.queue.push({ line, done });
    this.drain();
  }

  /** Writes the line now, ahead of the queue and outside the bucket. */
  sendUrgent(line: string, done?: () => void): void {
    if (this.closed) return;
    this.options.write(line, done);
  }

  /** Drops the lines still waiting (a QUIT makes them pointless). */
  discardPending(): void {
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The socket is gone: nothing more is written. */
  close(): void {
    this.closed = true;
    this.discardPending();
  }

  private drain(): void {
    if (this.timer !== undefined) return;
    while (this.queue.length > 0 && this.bucket.tryTake(this.now())) {
      const next = this.queue.shift() as QueuedLine;
      this.options.write(next.line, next.done);
      if (this.closed) return;
    }
    if (this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, this.bucket.waitMs(this.now()));
  }
}
