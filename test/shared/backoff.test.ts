/** The shared reconnect backoff: growth, cap, jitter range, and a bad random source. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/shared/backoff.ts';

const base = { baseMs: 100, maxMs: 10_000 };

describe('backoffDelay', () => {
  it('doubles from the base delay with each attempt when there is no jitter', () => {
    const delays = [1, 2, 3, 4].map((attempt) => backoffDelay({ ...base, attempt, jitter: 0, random: 0.7 }));

    expect(delays).toEqual([100, 200, 400, 800]);
  });

  it('stops growing at the cap, however long the outage', () => {
    const delays = [8, 9, 50, 10_000].map((attempt) => backoffDelay({ ...base, attempt, jitter: 0, random: 0 }));

    expect(delays).toEqual([10_000, 10_000, 10_000, 10_000]);
  });

  it('takes off up to half the delay by default (equal jitter)', () => {
    expect(backoffDelay({ ...base, attempt: 3, random: 0 })).toBe(400);
    expect(backoffDelay({ ...base, attempt: 3, random: 0.5 })).toBe(300);
    expect(backoffDelay({ ...base, attempt: 3, random: 0.999 })).toBe(200);
  });

  it('takes off up to all of it with full jitter', () => {
    expect(backoffDelay({ ...base, attempt: 3, jitter: 1, random: 0.75 })).toBe(100);
  });

  it('keeps every delay between the jittered floor and the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, random, jitter) => {
          const delay = backoffDelay({ ...base, attempt, jitter, random });
          const exponential = Math.min(base.maxMs, base.baseMs * 2 ** (attempt - 1));
          return Number.isInteger(delay) && delay <= exponential && delay >= Math.floor(exponential * (1 - jitter));
        },
      ),
    );
  });

  it('waits the whole delay rather than none when the random source is broken', () => {
    expect(backoffDelay({ ...base, attempt: 2, random: Number.NaN })).toBe(200);
  });
});
