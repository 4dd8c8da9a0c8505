/**
 * The ids of `EventStream` events: `<bootId>-<seq>`, where `bootId` is new in every process (so ids are
 * unique across restarts) and `seq` counts the events of that process from 1 (`0` is the position before
 * the first). The one reading of that format on the server side; the dashboard's browser script keeps a
 * copy of `parseEventId` because it is served as is, without a build step to compile this file.
 */

export interface EventId {
  bootId: string;
  seq: number;
}

export function formatEventId({ bootId, seq }: EventId): string {
  return `${bootId}-${seq}`;
}

/** The parts of an event id, or undefined when `id` is not one (missing, or from something else). */
export function parseEventId(id: string | null | undefined): EventId | undefined {
  // the sequence is after the last `-`, so a boot id may itself contain one
  const match = id ? /^(.+)-(\d+)$/.exec(id) : null;
  if (!match) return undefined;
  const seq = Number(match[2]);
  return Number.isSafeInteger(seq) ? { bootId: match[1] as string, seq } : undefined;
}

/**
 * The id just before `id` in the same stream (`<bootId>-<seq - 1>`): where a follower resumes to get `id`
 * again when it has applied nothing before it.
 */
export function previousEventId(id: string): string | undefined {
  const parsed = parseEventId(id);
  if (!parsed || parsed.seq < 1) return undefined;
  return formatEventId({ bootId: parsed.bootId, seq: parsed.seq - 1 });
}
