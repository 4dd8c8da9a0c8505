/**
 * JOINs combined: as few `JOIN #a,#b,…` lines as the server's limits allow (the 512-byte line with room for
 * a prefix, and ISUPPORT TARGMAX's JOIN count when the network sets one), so rejoining many channels costs
 * few tokens of the flood-control bucket.
 */

/**
 * Longest JOIN line we write, in bytes without CR LF: RFC 1459's 512 less CR LF, less room for the
 * `:nick!user@host ` prefix a server may add when it relays or checks the line.
 */
export const MAX_JOIN_LINE_BYTES = 510 - 100;

/** The JOIN target count ISUPPORT allows (`TARGMAX=JOIN:4,PART:…`, or `MAXTARGETS`), undefined when unlimited. */
export function joinTargetLimit(targmax: unknown): number | undefined {
  if (typeof targmax !== 'string') return undefined;
  for (const entry of targmax.split(',')) {
    const [command, limit] = entry.split(':');
    if (command?.toUpperCase() !== 'JOIN') continue;
    const count = Number(limit);
    return limit && Number.isInteger(count) && count > 0 ? count : undefined;
  }
  return undefined;
}

/** The JOIN lines for these channels, each within `maxBytes` and `maxTargets`, channels in order. */
export function joinLines(
  channels: readonly string[],
  limits: { maxBytes?: number; maxTargets?: number } = {},
): string[] {
  const maxBytes = limits.maxBytes ?? MAX_JOIN_LINE_BYTES;
  const maxTargets = limits.maxTargets ?? Number.POSITIVE_INFINITY;
  const lines: string[] = [];
  let targets: string[] = [];
  let bytes = 0;
  for (const channel of channels) {
    const size = Buffer.byteLength(channel);
    // `JOIN ` plus the names and their commas
    const grown = targets.length === 0 ? 5 + size : bytes + 1 + size;
    if (targets.length > 0 && (grown > maxBytes || targets.length >= maxTargets)) {
      lines.push(`JOIN ${targets.join(',')}`);
      targets = [];
    }
    bytes = targets.length === 0 ? 5 + size : bytes + 1 + size;
    targets.push(channel);
  }
  if (targets.length > 0) lines.push(`JOIN ${targets.join(',')}`);
  return lines;
}
