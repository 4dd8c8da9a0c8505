/**
 * What the servers API accepts; anything else is a 400 naming the field. Each connection field is the web's own
 * rule (its message first) piped into the IRC service contract's rule for that field, so whatever is saved here
 * is a setting the IRC service accepts: the web side may be stricter, never looser.
 */
import { z } from 'zod';
import { connectionFieldSchemas as contract } from '../../shared/irc-service-contract.ts';
import { IRC_NICKNAME_PATTERN } from '../../shared/nicknames.ts';

const NO_CONTROL_CHARS = /^\P{Cc}*$/u;

export const hostField = z
  .string()
  .trim()
  .regex(/^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?|\[?[0-9A-Fa-f:.]+\]?)$/, 'expected a host name or IP address')
  .pipe(contract.host);

/** RFC 2812's characters (the one pattern both sides share), at most 30 long. */
export const nicknameField = z
  .string()
  .max(30, 'expected an IRC nickname (1 to 30 characters)')
  .regex(IRC_NICKNAME_PATTERN, 'expected an IRC nickname (1 to 30 characters)')
  .pipe(contract.nickname);

export const channelNameField = z
  .string()
  .trim()
  .regex(/^[#&+!][^\s,\p{Cc}]{1,49}$/u, 'expected a channel name such as #chat (at most 50 characters)')
  .pipe(contract.channelName);

const serverFields = {
  name: z.string().trim().min(1).max(100).regex(NO_CONTROL_CHARS, 'expected no control characters'),
  host: hostField,
  port: contract.port,
  nickname: nicknameField,
  tls: contract.tls,
  username: z
    .string()
    .regex(/^[A-Za-z0-9_.~-]{1,32}$/, 'expected a user name (letters, digits, _ . ~ -; at most 32)')
    .pipe(contract.username)
    .nullable(),
  realname: z
    .string()
    .regex(NO_CONTROL_CHARS, 'expected no control characters')
    .pipe(contract.realname.max(100))
    .nullable(),
  password: z.string().regex(NO_CONTROL_CHARS, 'expected no control characters').pipe(contract.password).nullable(),
  autoconnect: z.boolean(),
};

export const createServerInput = z.strictObject({
  name: serverFields.name,
  host: serverFields.host,
  port: serverFields.port,
  nickname: serverFields.nickname,
  tls: serverFields.tls.optional(),
  username: serverFields.username.optional(),
  realname: serverFields.realname.optional(),
  password: serverFields.password.optional(),
  autoconnect: serverFields.autoconnect.optional(),
});

export const updateServerInput = z
  .strictObject({
    name: serverFields.name,
    host: serverFields.host,
    port: serverFields.port,
    nickname: serverFields.nickname,
    tls: serverFields.tls,
    username: serverFields.username,
    realname: serverFields.realname,
    password: serverFields.password,
    autoconnect: serverFields.autoconnect,
  })
  .partial()
  .refine((input) => Object.keys(input).length > 0, { message: 'expected at least one field to change' });

export const joinChannelInput = z.strictObject({ name: channelNameField });

export type CreateServerInput = z.infer<typeof createServerInput>;
export type UpdateServerInput = z.infer<typeof updateServerInput>;

/** Fields that the IRC service's connection uses: changing one of a live server reconnects it. */
export const CONNECTION_FIELDS = ['host', 'port', 'nickname', 'tls', 'username', 'realname', 'password'] as const;
