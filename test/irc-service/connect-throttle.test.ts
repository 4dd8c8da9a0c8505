import { describe, expect, it } from 'vitest';
import { ConnectThrottle } from '../../src/irc-service/connect-throttle.ts';

describe('ConnectThrottle', () => {
  it('admits at most the limit per host and the rest in arrival order', () => {
    const throttle = new ConnectThrottle(2);
    const started: string[] = [];
    const releases = ['a', 'b', 'c', 'd'].map((name) => throttle.admit('IRC.example.net', () => started.push(name)));
    const other = throttle.admit('irc.other.net', () => started.push('other'));

    expect(started).toEqual(['a', 'b', 'other']);
    expect(throttle.waiting('irc.example.net')).toBe(2);

    releases[0]?.();
    expect(started).toEqual(['a', 'b', 'other', 'c']);
    releases[0]?.();
    expect(throttle.inFlight('irc.example.net')).toBe(2);
    other();
    expect(throttle.inFlight('irc.other.net')).toBe(0);
  });

  it('lets a waiting connect leave the queue without taking a slot', () => {
    const throttle = new ConnectThrottle(1);
    const started: string[] = [];
    const first = throttle.admit('h', () => started.push('first'));
    const second = throttle.admit('h', () => started.push('second'));
    const third = throttle.admit('h', () => started.push('third'));

    second();
    first();

    expect(started).toEqual(['first', 'third']);
    third();
    expect(throttle.inFlight('h')).toBe(0);
    expect(throttle.waiting('h')).toBe(0);
  });
});
