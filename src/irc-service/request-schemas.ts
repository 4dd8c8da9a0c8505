import { z } from 'zod';
import type { IrcConnectionSettings } from '../../machines/irc-connection.machine.ts';

/**
 * Bodies and parameters of the IRC service routes. Every string that ends up on an IRC line refuses
 * CR, LF and NUL, so a request can never inject a second IRC command.
 */
const ircSafe = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\r\n\0]*$/, 'must not contain line breaks or NUL');

export const serverIdParamSchema = z.object({
  serverId: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().int().max(2_147_483_647, 'must be a positive integer')),
});

/** `#chan`, `&chan`, `+chan`, `!chan`: no spaces, commas or BEL, as RFC 2812 says. */
export const channelNameSchema = z
  .string()
  .min(2)
  .max(200)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: BEL and NUL are exactly what a channel name must not hold
  .regex(/^[#&+!][^\s,\x07\0]+$/, 'must be a channel name such as #general');

const nicknameSchema = z
  .string()
  .min(1)
  .max(30)
  .regex(/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/, 'must be a valid IRC nickname');

export const connectionRequestSchema = z.object({
  host: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[^\s/]+$/, 'must be a host name or address'),
  port: z.number().int().min(1).max(65_535),
  tls: z.boolean().default(false),
  nickname: nicknameSchema,
  username: ircSafe(64)
    .regex(/^[^\s@]+$/, 'must not contain spaces or @')
    .optional(),
  realname: ircSafe(200).optional(),
  password: ircSafe(200).optional(),
  channels: z.array(channelNameSchema).max(1_000).optional(),
});

export type ConnectionRequestBody = z.infer<typeof connectionRequestSchema>;

/** The machine's settings from a validated body (optional fields left out rather than undefined). */
export function settingsFromBody(body: ConnectionRequestBody): IrcConnectionSettings {
  const settings: IrcConnectionSettings = { host: body.host, port: body.port, tls: body.tls, nickname: body.nickname };
  if (body.username !== undefined) settings.username = body.username;
  if (body.realname !== undefined) settings.realname = body.realname;
  if (body.password !== undefined) settings.password = body.password;
  return settings;
}

export const joinRequestSchema = z.object({ name: channelNameSchema });

export const channelParamSchema = z.object({ name: channelNameSchema });

/** `POST /internal/irc/resync`: which connections emit their state again; all registered ones without ids. */
export const resyncRequestSchema = z.strictObject({
  serverIds: z.array(z.number().int().min(1).max(2_147_483_647)).max(100_000).optional(),
});
