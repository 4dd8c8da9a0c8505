/** Flood control: the token bucket, the send queue that paces a connection's lines, and combined JOINs. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { joinLines, joinTargetLimit, MAX_JOIN_LINE_BYTES } from '../../src/irc-service/join-lines.ts';
import { SendQueue } from '../../src/irc-service/send-queue.ts';
import { TokenBucket } from '../../src/irc-service/token-bucket.ts';

describe('TokenBucket', () => {
  it('gives the burst at once, then one token per interval', () => {
    const bucket = new TokenBucket({ burst: 3, intervalMs: 2_000 }, 0);

    expect([bucket.tryTake(0), bucket.tryTake(0), bucket.tryTake(0), bucket.tryTake(0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.waitMs(0)).toBe(2_000);
    expect(bucket.tryTake(1_999)).toBe(false);
    expect(bucket.tryTake(2_000)).toBe(true);
  });

  it('refills no further than the burst after a quiet spell', () => {
    const bucket = new TokenBucket({ burst: 2, intervalMs: 1_000 }, 0);
    bucket.tryTake(0);
    bucket.tryTake(0);

    const taken = [1, 2, 3].map(() => bucket.tryTake(60_000));

    expect(taken).toEqual([true, true, false]);
  });
});

describe('SendQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function queue(burst = 4, intervalMs = 2_000) {
    const written: string[] = [];
    const sendQueue = new SendQueue({ burst, intervalMs, write: (line) => written.push(line) });
    return { sendQueue, written };
  }

  it('writes the burst at once, then one line per interval, in order', () => {
    const { sendQueue, written } = queue();

    for (let i = 1; i <= 10; i += 1) sendQueue.send(`JOIN #c${i}`);

    expect(written).toEqual(['JOIN #c1', 'JOIN #c2', 'JOIN #c3', 'JOIN #c4']);
    vi.advanceTimersByTime(2_000);
    expect(written).toHaveLength(5);
    vi.advanceTimersByTime(5 * 2_000);
    expect(written).toHaveLength(10);
    expect(written.at(-1)).toBe('JOIN #c10');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('100 lines take as long as the bucket says: 96 intervals after the burst', () => {
    const { sendQueue, written } = queue();
    for (let i = 1; i <= 100; i += 1) sendQueue.send(`PRIVMSG #c :${i}`);

    vi.advanceTimersByTime(95 * 2_000);
    expect(written).toHaveLength(99);
    vi.advanceTimersByTime(2_000);
    expect(written).toHaveLength(100);
  });

  it('an urgent line (PONG) goes ahead of the queue at once, and the queue keeps its pace', () => {
    const { sendQueue, written } = queue(1, 1_000);
    sendQueue.send('JOIN #a');
    sendQueue.send('JOIN #b');

    sendQueue.sendUrgent('PONG :irc.test');

    expect(written).toEqual(['JOIN #a', 'PONG :irc.test']);
    vi.advanceTimersByTime(1_000);
    expect(written).toEqual(['JOIN #a', 'PONG :irc.test', 'JOIN #b']);
  });

  it('once closed it writes nothing more and leaves no timer behind', () => {
    const { sendQueue, written } = queue(1, 1_000);
    sendQueue.send('JOIN #a');
    sendQueue.send('JOIN #b');

    sendQueue.close();
    vi.advanceTimersByTime(10_000);

    expect(written).toEqual(['JOIN #a']);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('joinLines', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => `#channel-${String(i).padStart(3, '0')}`);

  it('combines 100 channels into a few lines within the byte limit, every channel once and in order', () => {
    const lines = joinLines(hundred);

    expect(lines.length).toBeLessThanOrEqual(4);
    for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_JOIN_LINE_BYTES);
    expect(lines.flatMap((line) => line.slice('JOIN '.length).split(','))).toEqual(hundred);
  });

  it('keeps to the network’s TARGMAX for JOIN', () => {
    const limit = joinTargetLimit('PRIVMSG:4,JOIN:10,PART:');

    const lines = joinLines(hundred, { maxTargets: limit });

    expect(limit).toBe(10);
    expect(lines).toHaveLength(10);
    expect(joinTargetLimit('PRIVMSG:4,JOIN:')).toBeUndefined();
    expect(joinTargetLimit(undefined)).toBeUndefined();
  });
});
