/** Property-based: nickname fallbacks always fit the network's NICKLEN, stay RFC-valid and never repeat. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionFieldSchemas } from '../../src/shared/irc-service-contract.ts';
import { IRC_NICKNAME_PATTERN, nicknameFallbacks, nicknameLimit } from '../../src/shared/nicknames.ts';

const wanted = fc.stringMatching(/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/);

describe('nickname fallbacks', () => {
  it('replace the tail rather than append when the nickname fills the limit', () => {
    expect(nicknameFallbacks('longnick', 8, 4)).toEqual(['longnic_', 'longni_1', 'longni_2', 'longni_3']);
    expect(nicknameFallbacks('bob', 9, 3)).toEqual(['bob_', 'bob_1', 'bob_2']);
    expect(nicknameFallbacks('longnick', 8, 12).at(-1)).toBe('longn_11');
  });

  it('every fallback fits the limit, is RFC-valid, differs from the others and from the wanted nickname', () => {
    fc.assert(
      fc.property(wanted, fc.integer({ min: 3, max: 40 }), fc.integer({ min: 1, max: 12 }), (nick, limit, count) => {
        const fallbacks = nicknameFallbacks(nick, limit, count);
        // at three characters only `_` and `_1` … `_9` fit
        expect(fallbacks).toHaveLength(limit > 3 ? count : Math.min(count, 10));
        for (const fallback of fallbacks) {
          expect(fallback.length).toBeLessThanOrEqual(limit);
          expect(fallback).toMatch(IRC_NICKNAME_PATTERN);
          expect(fallback).not.toBe(nick.slice(0, limit));
        }
        expect(new Set(fallbacks).size).toBe(fallbacks.length);
      }),
    );
  });

  it('before the network has said, the limit is nine or the wanted length, whichever is longer', () => {
    expect(nicknameLimit('bob', undefined)).toBe(9);
    expect(nicknameLimit('averylongnickname', undefined)).toBe(17);
    expect(nicknameLimit('averylongnickname', 15)).toBe(15);
  });

  it('the contract refuses a nickname no IRC server accepts', () => {
    for (const bad of ['1nick', '-nick', 'ni ck', 'nick!', 'nïck', '']) {
      expect(connectionFieldSchemas.nickname.safeParse(bad).success).toBe(false);
    }
    for (const good of ['nick', '[away]', '`x', 'a-1', '^_^', '{bot}|2']) {
      expect(connectionFieldSchemas.nickname.safeParse(good).success).toBe(true);
    }
  });
});
