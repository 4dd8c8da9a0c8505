/**
 * Events the IRC service emits on `GET /internal/irc/events` (SSE `event:` = type, `data:` = JSON).
 * The web side's consumer validates every payload against these schemas.
 */
import { z } from 'zod';
import { connectionStateSchema, serverIdSchema as serverId } from './irc-service-contract.ts';

// IRC lines cannot carry NUL, CR or LF, and PostgreSQL text cannot hold NUL: such a payload is refused.
const ircText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[^\0\r\n]*$/, 'expected no NUL, CR or LF');
const channel = ircText(1, 200);
const nickname = ircText(1, 100);
const modes = ircText(0, 20);

export const ircEventSchemas = {
  connected: z.object({ serverId, nickname }),
  disconnected: z.object({ serverId, reason: ircText(0, 500).optional() }),
  reconnecting: z.object({
    serverId,
    attempt: z.number().int().min(1),
    delayMs: z.number().int().min(0),
    /** Why the last socket ended (the connection's `lastError.message`). */
    reason: z.string().max(500).optional(),
  }),
  /** A fatal reply (banned, bad password, K-line, no acceptable nickname): no reconnect until asked (or a long delay). */
  failed: z.object({ serverId, reason: ircText(1, 500), at: z.iso.datetime({ offset: true }) }),
  joined: z.object({ serverId, channel }),
  parted: z.object({ serverId, channel }),
  names: z.object({ serverId, channel, users: z.array(z.object({ nickname, modes })).max(100_000) }),
  'user-joined': z.object({ serverId, channel, nickname, modes: modes.optional() }),
  'user-parted': z.object({ serverId, channel, nickname }),
  'user-quit': z.object({ serverId, nickname }),
  'nick-changed': z.object({ serverId, nickname, newNickname: nickname }),
  /** A connection's state, since, nickname, attempt, next attempt or last error changed (`GET /internal/irc/connections` lists them all). */
  'connection-state': connectionStateSchema,
} as const;

export type IrcEventType = keyof typeof ircEventSchemas;
export type IrcEventPayload<T extends IrcEventType> = z.infer<(typeof ircEventSchemas)[T]>;
export type IrcEvent = { [T in IrcEventType]: { type: T; payload: IrcEventPayload<T> } }[IrcEventType];

export const IRC_EVENT_TYPES = Object.keys(ircEventSchemas) as IrcEventType[];

export function isIrcEventType(type: string): type is IrcEventType {
  return Object.hasOwn(ircEventSchemas, type);
}

/** Parses one SSE message of the IRC event stream; undefined when its type or payload is not in the contract. */
export function parseIrcEvent(type: string, data: unknown): IrcEvent | undefined {
  if (!isIrcEventType(type)) return undefined;
  const parsed = ircEventSchemas[type].safeParse(data);
  return parsed.success ? ({ type, payload: parsed.data } as IrcEvent) : undefined;
}

/** IRC channel names compare case-insensitively; the database stores them folded. */
export function normalizeChannelName(name: string): string {
  return name.toLowerCase();
}
