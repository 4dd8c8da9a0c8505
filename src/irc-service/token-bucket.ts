/**
 * A token bucket (pure; time is passed in): `burst` lines at once, then one line every `intervalMs`. It is
 * the flood control of one connection's writes (see send-queue.ts).
 */

export interface TokenBucketOptions {
  /** Lines that may go at once after a quiet spell. */
  burst: number;
  /** Steady pace: one more line each this many ms. */
  intervalMs: number;
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly options: TokenBucketOptions,
    now: number,
  ) {
    this.tokens = options.burst;
    this.updatedAt = now;
  }

  /** Takes a token when one is there; false (nothing taken) when the bucket is empty. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds from `now` until a token is there (0 when one is). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * this.options.intervalMs);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    this.tokens = Math.min(this.options.burst, this.tokens + elapsed / this.options.intervalMs);
  }
}
