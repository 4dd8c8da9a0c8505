/**
 * The one reconnect backoff of both processes: capped exponential with "equal jitter" by default.
 *
 * Pure: the random draw comes in as a number, so a machine can use it and a test can pin it. Used by the
 * IRC connection machine, the web side's IRC event consumer and the browser-event fan-out listener.
 */

export interface BackoffOptions {
  /** 1-based: the first retry waits `baseMs` (before jitter). */
  attempt: number;
  /** Delay of the first attempt; each further attempt doubles it. */
  baseMs: number;
  /** Cap of the delay. */
  maxMs: number;
  /**
   * Share of the delay taken off at random: 0 = none, 0.5 = "equal jitter" (between half and all of it,
   * the default), 1 = "full jitter" (between none and all of it).
   */
  jitter?: number;
  /** A draw in [0, 1), e.g. `Math.random()`. */
  random: number;
}

/** Whole milliseconds to wait before attempt `attempt`; never above `maxMs`, never NaN. */
export function backoffDelay({ attempt, baseMs, maxMs, jitter = 0.5, random }: BackoffOptions): number {
  // the exponent is bounded so that a long outage cannot overflow to Infinity before the cap applies
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  // a broken random source must not turn the delay into NaN (a timer of 0 ms: a reconnect storm)
  const share = Number.isFinite(random) ? Math.min(Math.max(random, 0), 1) : 0;
  return Math.round(exponential * (1 - jitter * share));
}
