/** Event ids (`<bootId>-<seq>`): what reads as one, and the id a follower resumes from. */
import { describe, expect, it } from 'vitest';
import { formatEventId, parseEventId, previousEventId } from '../../src/shared/sse/event-id.ts';

describe('event ids', () => {
  it('reads back what it writes, including a boot id with a dash in it', () => {
    for (const id of [
      { bootId: 'lx2k9a1b2c3d4', seq: 0 },
      { bootId: 'b1', seq: 42 },
      { bootId: 'a-b', seq: 7 },
    ]) {
      expect(parseEventId(formatEventId(id))).toEqual(id);
    }
  });

  it('reads anything else as no id', () => {
    for (const id of [
      undefined,
      null,
      '',
      '12',
      '-3',
      'b1-',
      'b1-x',
      'b1-1.5',
      'b1-+1',
      'b1- 1',
      'b1-99999999999999999999',
    ]) {
      expect(parseEventId(id)).toBeUndefined();
    }
  });

  it('answers the id just before, down to the position before the first event', () => {
    expect(previousEventId('b1-5')).toBe('b1-4');
    expect(previousEventId('b1-1')).toBe('b1-0');
    expect(previousEventId('b1-0')).toBeUndefined();
    expect(previousEventId('nonsense')).toBeUndefined();
  });
});
