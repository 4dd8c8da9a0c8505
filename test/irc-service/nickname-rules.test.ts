/** Nicknames while registering (fallbacks that fit), fatal replies, and taking the wanted nickname back. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bannedWithError, fatalErrorLine } from '../../src/irc-service/fatal-replies.ts';
import { NICKNAME_ATTEMPTS, NicknameFallbacks } from '../../src/irc-service/nickname-fallbacks.ts';
import { NicknameRegain } from '../../src/irc-service/nickname-regain.ts';

describe('NicknameFallbacks', () => {
  it('a taken nickname is followed by fallbacks that keep its length once a 432 says it is too long', () => {
    const fallbacks = new NicknameFallbacks('longnick');

    // unknown NICKLEN: nine is assumed, so `_` is appended first; the server refuses it as too long
    expect(fallbacks.next('longnick', 'taken')).toBe('longnick_');
    expect(fallbacks.next('longnick_', 'erroneous')).toBe('longnic_');
    expect(fallbacks.next('longnic_', 'taken')).toBe('longni_1');
  });

  it('gives up after its attempts, naming every nickname tried', () => {
    const fallbacks = new NicknameFallbacks('bob');
    const tried: string[] = [];
    for (let next = fallbacks.next('bob', 'taken'); next; next = fallbacks.next(next, 'taken')) tried.push(next);

    expect(tried).toHaveLength(NICKNAME_ATTEMPTS);
    expect(fallbacks.exhaustedReason()).toBe(`no acceptable nickname: tried bob, ${tried.join(', ')}`);
  });
});

describe('fatalErrorLine', () => {
  it("a 465 keeps the text of the ERROR that followed it, which often says why (InspIRCd's)", () => {
    const banned = "banned by the server (465): You're banned!";

    expect(bannedWithError(banned, ' Closing link: (banme@127.0.0.1) [K-lined: spamming] ')).toBe(
      "banned by the server (465): You're banned! (Closing link: (banme@127.0.0.1) [K-lined: spamming])",
    );
    expect(bannedWithError(banned, undefined)).toBe(banned);
    expect(bannedWithError(banned, '')).toBe(banned);
  });

  it('465, 464, a ban ERROR and an access-denied ERROR are fatal; an ordinary ERROR is not', () => {
    expect(fatalErrorLine({ error: 'banned_from_network', reason: 'You are banned' })).toBe(
      'banned by the server (465): You are banned',
    );
    expect(fatalErrorLine({ error: 'password_mismatch' })).toBe('the server refused the password (464)');
    for (const reason of [
      'Closing Link: host (K-lined)',
      'Closing Link: 1.2.3.4 (G-Lined: spam)',
      'Closing Link: host (Z:Lined)',
      'You are banned from this server',
      'Closing Link: host (AKILL)',
    ]) {
      expect(fatalErrorLine({ error: 'irc', reason }), reason).toBe(`banned by the server: ${reason}`);
    }
    for (const reason of [
      'Access denied: Bad password?',
      'Closing link: (abc@127.0.0.1) [Access denied by configuration]',
      'Closing Link: 127.0.0.1 (Bad Password)',
      'Closing Link: host (Password mismatch)',
    ]) {
      expect(fatalErrorLine({ error: 'irc', reason }), reason).toBe(`the server refused the connection: ${reason}`);
    }
    expect(fatalErrorLine({ error: 'irc', reason: 'Access denied: "spamming" (K-Line)' })).toBe(
      'banned by the server: Access denied: "spamming" (K-Line)',
    );
    for (const reason of [
      'Closing connection',
      'Closing Link: host (Ping timeout: 120 seconds)',
      'Closing Link: host (Excess Flood)',
      'Trying to reconnect too fast.',
    ]) {
      expect(fatalErrorLine({ error: 'irc', reason }), reason).toBeUndefined();
    }
  });
});

describe('NicknameRegain', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const sameNickname = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

  it('with MONITOR: watches the wanted nickname and takes it when it goes offline', () => {
    const sent: string[] = [];
    const regain = new NicknameRegain({
      wanted: 'bob',
      sameNickname,
      send: (line) => sent.push(line),
      monitor: true,
      isonIntervalMs: 1_000,
    });

    regain.update('bob_');
    regain.offline(['alice']);
    regain.offline(['BOB']);
    regain.update('bob');

    expect(sent).toEqual(['MONITOR + bob', 'NICK bob', 'MONITOR - bob']);
  });

  it('without MONITOR: asks ISON each interval and takes the nickname once it is not online', () => {
    const sent: string[] = [];
    const regain = new NicknameRegain({
      wanted: 'bob',
      sameNickname,
      send: (line) => sent.push(line),
      monitor: false,
      isonIntervalMs: 1_000,
    });

    regain.update('bob_');
    vi.advanceTimersByTime(1_000);
    regain.isonReply(['bob']);
    vi.advanceTimersByTime(1_000);
    regain.isonReply([]);
    regain.update('bob');
    vi.advanceTimersByTime(5_000);

    expect(sent).toEqual(['ISON bob', 'ISON bob', 'NICK bob']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
