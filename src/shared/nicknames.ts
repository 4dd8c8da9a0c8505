/**
 * IRC nicknames by the rules every network shares (RFC 2812's characters) and by the one each network sets
 * (ISUPPORT NICKLEN): the one pattern both sides validate with, and the fallbacks tried when a nickname is taken.
 */

/** RFC 2812: a letter or special first, then letters, digits, specials and `-`. No IRC server accepts less. */
export const IRC_NICKNAME_PATTERN = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;

/**
 * NICKLEN assumed before the network has said (ISUPPORT arrives only after registration): RFC 2812's nine, or
 * the wanted nickname's own length when longer, since the operator chose it for this network.
 */
export const ASSUMED_NICKLEN = 9;

/** Fallbacks never go below this many characters (no network has a NICKLEN under RFC 2812's nine anyway). */
const MIN_LIMIT = 3;

/**
 * The first `count` fallbacks for `wanted` that fit `limit` characters: `_` appended, then `_1`, `_2`, …, each
 * replacing the tail when the nickname already fills the limit (`longnick` at 8: `longnic_`, `longni_1`, …).
 * Each is RFC-valid when `wanted` is, at most `limit` long, and distinct from the others and from `wanted`;
 * fewer than `count` only when the limit leaves no room for more.
 */
export function nicknameFallbacks(wanted: string, limit: number, count: number): string[] {
  const fits = Math.max(MIN_LIMIT, limit);
  const taken = new Set([wanted.slice(0, fits)]);
  const fallbacks: string[] = [];
  // bounded: at the smallest limit only `_` and `_1` … `_9` fit
  for (let index = 1; fallbacks.length < count && index <= 10_000; index += 1) {
    const suffix = index === 1 ? '_' : `_${index - 1}`;
    const candidate = wanted.slice(0, Math.max(1, fits - suffix.length)) + suffix;
    if (candidate.length <= fits && !taken.has(candidate)) {
      taken.add(candidate);
      fallbacks.push(candidate);
    }
  }
  return fallbacks;
}

/** The limit to fit fallbacks in: the network's NICKLEN once known, else an assumption (see ASSUMED_NICKLEN). */
export function nicknameLimit(wanted: string, networkNicklen: number | undefined): number {
  return networkNicklen ?? Math.max(ASSUMED_NICKLEN, wanted.length);
}

/** ISUPPORT's NICKLEN (irc-framework keeps tokens as strings), or undefined when absent or unusable. */
export function parseNicklen(value: unknown): number | undefined {
  const length = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  return Number.isInteger(length) && length > 0 ? length : undefined;
}
