/** ISO 8601 times on the wire, from milliseconds since the epoch (formatting only; whoever calls owns the clock). */

/** `2026-12-03T07:00:00.000Z` for a time in ms since the epoch, as `Date.prototype.toISOString()` writes it. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
