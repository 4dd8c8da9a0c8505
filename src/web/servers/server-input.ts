/**
 * What the servers API accepts; anything else is a 400 naming the field. Each connection field is the web's own
 * rule (its message first) piped into the IRC service contract's rule for that field, so whatever is saved here
 * is a setting the IRC service accepts: the web side may be stricter, never looser.
 */
import { z } from 'zod';
import { connectionFieldSchemas as contract, normalizeFingerprint } from '../../shared/irc-service-contract.ts';
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
  tlsVerify: contract.tlsVerify,
  tlsFingerprint: contract.tlsFingerprint.nullable(),
  clientCertificate: contract.clientCertificate.nullable(),
  clientKey: contract.clientKey.nullable(),
  sasl: contract.sasl.nullable(),
  saslRequired: contract.saslRequired,
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
  tlsVerify: serverFields.tlsVerify.optional(),
  tlsFingerprint: serverFields.tlsFingerprint.optional(),
  clientCertificate: serverFields.clientCertificate.optional(),
  clientKey: serverFields.clientKey.optional(),
  sasl: serverFields.sasl.optional(),
  saslRequired: serverFields.saslRequired.optional(),
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
    tlsVerify: serverFields.tlsVerify,
    tlsFingerprint: serverFields.tlsFingerprint,
    clientCertificate: serverFields.clientCertificate,
    clientKey: serverFields.clientKey,
    sasl: serverFields.sasl,
    saslRequired: serverFields.saslRequired,
  })
  .partial()
  .refine((input) => Object.keys(input).length > 0, { message: 'expected at least one field to change' });

export const joinChannelInput = z.strictObject({ name: channelNameField });

export type CreateServerInput = z.infer<typeof createServerInput>;
export type UpdateServerInput = z.infer<typeof updateServerInput>;

/** Fields that the IRC service's connection uses: changing one of a live server reconnects it. */
export const CONNECTION_FIELDS = ['host', 'port', 'nickname', 'tls', 'username', 'realname', 'password'] as const;

/** TLS and SASL fields: changing one of a live server reconnects it too (compared as columns, see securityColumns). */
export const SECURITY_FIELDS = [
  'tlsVerify',
  'tlsFingerprint',
  'clientCertificate',
  'clientKey',
  'sasl',
  'saslRequired',
] as const;

/** The `servers` columns (entity properties) of the TLS and SASL fields of an input; fields left out stay out. */
export function securityColumns(input: Partial<Pick<CreateServerInput, (typeof SECURITY_FIELDS)[number]>>) {
  const columns: {
    tlsVerify?: boolean;
    tlsFingerprint?: string | null;
    clientCertificate?: string | null;
    clientKey?: string | null;
    saslMechanism?: string | null;
    saslAccount?: string | null;
    saslPassword?: string | null;
    saslRequired?: boolean;
  } = {};
  if (input.tlsVerify !== undefined) columns.tlsVerify = input.tlsVerify;
  if (input.tlsFingerprint !== undefined) {
    columns.tlsFingerprint = input.tlsFingerprint === null ? null : normalizeFingerprint(input.tlsFingerprint);
  }
  if (input.clientCertificate !== undefined) columns.clientCertificate = input.clientCertificate;
  if (input.clientKey !== undefined) columns.clientKey = input.clientKey;
  if (input.sasl !== undefined) {
    columns.saslMechanism = input.sasl?.mechanism ?? null;
    columns.saslAccount = input.sasl?.mechanism === 'PLAIN' ? input.sasl.account : null;
    columns.saslPassword = input.sasl?.mechanism === 'PLAIN' ? input.sasl.password : null;
  }
  if (input.saslRequired !== undefined) columns.saslRequired = input.saslRequired;
  return columns;
}
