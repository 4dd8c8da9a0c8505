/**
 * The wire contract of the IRC service's `/internal/*` API: every request, answer and error body, written once.
 * The IRC service validates requests with it, the web side builds requests and parses answers with it, and the
 * web side's own input rules are narrowings of its field schemas, so no limit can differ between the two sides.
 * (The events of `GET /internal/irc/events` are in `irc-events.ts`.)
 */
import { z } from 'zod';
import { IRC_NICKNAME_PATTERN } from './nicknames.ts';

/** The largest id PostgreSQL's `serial` can hold. */
const MAX_SERVER_ID = 2_147_483_647;

/** A server's id in a body or an event. */
export const serverIdSchema = z.number().int().min(1).max(MAX_SERVER_ID);

/** Every string that ends up on an IRC line refuses CR, LF and NUL, so a request can never inject a second IRC command. */
const ircSafe = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\r\n\0]*$/, 'must not contain line breaks or NUL');

/** `#chan`, `&chan`, `+chan`, `!chan`: no spaces, commas or BEL, as RFC 2812 says. */
export const channelNameSchema = z
  .string()
  .min(2)
  .max(200)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: BEL and NUL are exactly what a channel name must not hold
  .regex(/^[#&+!][^\s,\x07\0]+$/, 'must be a channel name such as #general');

/** The settings of one connection, field by field: the web side narrows these for its own input. */
export const connectionFieldSchemas = {
  host: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[^\s/]+$/, 'must be a host name or address'),
  port: z.number().int().min(1).max(65_535),
  tls: z.boolean(),
  nickname: z.string().min(1).max(30).regex(IRC_NICKNAME_PATTERN, 'must be a valid IRC nickname'),
  username: ircSafe(64).regex(/^[^\s@]+$/, 'must not contain spaces or @'),
  realname: ircSafe(200),
  password: ircSafe(200),
  channelName: channelNameSchema,
  /** Verify the server's certificate against the system's trust store, with its name checked (default true). */
  tlsVerify: z.boolean(),
  /** SHA-256 of the server's certificate, hex with or without colons: the connection proceeds only on a match. */
  tlsFingerprint: z
    .string()
    .regex(
      /^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/,
      'must be a SHA-256 fingerprint (64 hex digits)',
    ),
  /** A client certificate (PEM) for CertFP and SASL EXTERNAL. */
  clientCertificate: z
    .string()
    .max(20_000)
    .regex(/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/, 'must be a PEM certificate'),
  /** The client certificate's private key (PEM): a secret. */
  clientKey: z
    .string()
    .max(20_000)
    .regex(
      /^-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+-----END [A-Z ]*PRIVATE KEY-----\s*$/,
      'must be a PEM private key',
    ),
  /** SASL: PLAIN with an account and its password (a secret), or EXTERNAL with the client certificate. */
  sasl: z.discriminatedUnion('mechanism', [
    z.object({
      mechanism: z.literal('PLAIN'),
      account: ircSafe(100).regex(/^\S+$/, 'must not contain spaces'),
      password: ircSafe(200),
    }),
    z.object({ mechanism: z.literal('EXTERNAL') }),
  ]),
  /** Whether a SASL failure ends the connection (`failed`), rather than continuing unauthenticated (default true). */
  saslRequired: z.boolean(),
} as const;

/** A fingerprint as compared: lower-case hex without colons. */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replaceAll(':', '').toLowerCase();
}

/** `:serverId` of `/internal/irc/connections/:serverId…`, a path segment, as a number. */
export const serverIdParamSchema = z.object({
  serverId: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().int().max(MAX_SERVER_ID, 'must be a positive integer')),
});

/** `PUT /internal/irc/connections/:serverId`: starts the connection, or keeps it; idempotent. */
export const connectionRequestSchema = z
  .object({
    host: connectionFieldSchemas.host,
    port: connectionFieldSchemas.port,
    tls: connectionFieldSchemas.tls.default(false),
    nickname: connectionFieldSchemas.nickname,
    username: connectionFieldSchemas.username.optional(),
    realname: connectionFieldSchemas.realname.optional(),
    password: connectionFieldSchemas.password.optional(),
    tlsVerify: connectionFieldSchemas.tlsVerify.default(true),
    tlsFingerprint: connectionFieldSchemas.tlsFingerprint.optional(),
    clientCertificate: connectionFieldSchemas.clientCertificate.optional(),
    clientKey: connectionFieldSchemas.clientKey.optional(),
    sasl: connectionFieldSchemas.sasl.optional(),
    saslRequired: connectionFieldSchemas.saslRequired.default(true),
    channels: z.array(channelNameSchema).max(1_000).optional(),
  })
  .superRefine((body, context) => {
    const problem = connectionSecurityProblem(body);
    if (problem) context.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
  });

/** The TLS and SASL settings that must agree with one another. */
export interface ConnectionSecurity {
  tls?: boolean;
  tlsFingerprint?: string | null;
  clientCertificate?: string | null;
  clientKey?: string | null;
  sasl?: { mechanism: string } | null;
}

/**
 * The first disagreement among a connection's TLS and SASL settings, with the field at fault, or undefined. One
 * rule for both sides: the IRC service checks a PUT body with it, the web side a server as it would be saved.
 */
export function connectionSecurityProblem(
  settings: ConnectionSecurity,
): { field: string; message: string } | undefined {
  const hasCertificate = settings.clientCertificate != null;
  // a certificate and its key come together: one without the other cannot make a TLS handshake
  if (hasCertificate !== (settings.clientKey != null)) {
    return {
      field: hasCertificate ? 'clientKey' : 'clientCertificate',
      message: 'clientCertificate and clientKey go together',
    };
  }
  if (settings.sasl?.mechanism === 'EXTERNAL' && !hasCertificate) {
    return { field: 'sasl', message: 'EXTERNAL needs a clientCertificate and clientKey' };
  }
  if (!settings.tls && hasCertificate) return { field: 'clientCertificate', message: 'needs tls' };
  if (!settings.tls && settings.tlsFingerprint != null) return { field: 'tlsFingerprint', message: 'needs tls' };
  return undefined;
}

/** The PUT body as a sender writes it (`tls`, `tlsVerify`, `saslRequired` may be left out). */
export type ConnectionRequest = z.input<typeof connectionRequestSchema>;
/** The PUT body as the IRC service reads it. */
export type ConnectionRequestBody = z.output<typeof connectionRequestSchema>;

/** `202` to the PUT: what the IRC service did with the connection. */
export const connectionAnswerSchema = z.object({
  serverId: serverIdSchema,
  /** `retried`: a connection in `failed` tries once more (an operator's Connect). */
  outcome: z.enum(['started', 'unchanged', 'reconfigured', 'retried']),
});
export type ConnectionAnswer = z.infer<typeof connectionAnswerSchema>;

/** The most connections one `PUT /internal/irc/connections` hands over (its body may be 64 single bodies long). */
export const MAX_CONNECTIONS_PER_BATCH = 64;

/**
 * `PUT /internal/irc/connections`: many connection requests at once (a failover's or a restart's hand-over),
 * each what the single PUT's body is plus its `serverId`. Only the envelope is checked as a whole; each entry is
 * judged on its own (`connectionRequestSchema`), so one bad entry does not hold the others back.
 */
export const connectionBatchRequestSchema = z.strictObject({
  connections: z
    .array(z.looseObject({ serverId: serverIdSchema }))
    .min(1)
    .max(MAX_CONNECTIONS_PER_BATCH),
});
export type ConnectionBatchRequest = { connections: Array<ConnectionRequest & { serverId: number }> };

/** Every refusal of either side: `{error: {message, field?}}`; `field` names what was wrong, never its value. */
export const errorBodySchema = z.object({
  error: z.object({ message: z.string(), field: z.string().optional() }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** `202` to the batch PUT: per entry, in the order sent, what the single PUT would have answered. */
export const connectionBatchAnswerSchema = z.object({
  connections: z.array(z.union([connectionAnswerSchema, errorBodySchema.extend({ serverId: serverIdSchema })])),
});
export type ConnectionBatchAnswer = z.infer<typeof connectionBatchAnswerSchema>;

/** `202` to `DELETE /internal/irc/connections/:serverId` (a `404` error body when there was none). */
export const disconnectAnswerSchema = z.object({ serverId: serverIdSchema });
export type DisconnectAnswer = z.infer<typeof disconnectAnswerSchema>;

/** `POST /internal/irc/connections/:serverId/channels`: join. */
export const joinRequestSchema = z.object({ name: channelNameSchema });
export type JoinRequest = z.infer<typeof joinRequestSchema>;

/** `:name` of `DELETE /internal/irc/connections/:serverId/channels/:name`: part. */
export const channelParamSchema = z.object({ name: channelNameSchema });

/** `202` to a join or a part. */
export const channelAnswerSchema = z.object({ serverId: serverIdSchema, channel: channelNameSchema });
export type ChannelAnswer = z.infer<typeof channelAnswerSchema>;

/** `POST /internal/irc/resync`: which connections emit their state again; all registered ones without ids. */
export const resyncRequestSchema = z.strictObject({
  serverIds: z.array(serverIdSchema).max(100_000).optional(),
});
export type ResyncRequest = z.infer<typeof resyncRequestSchema>;

/** `202` to a resync: the ids of the connections that were asked. */
export const resyncAnswerSchema = z.object({ serverIds: z.array(serverIdSchema) });
export type ResyncAnswer = z.infer<typeof resyncAnswerSchema>;

/** An IRC service node's name (`IRC_NODE_ID`, `servers.irc_node`): a short token, safe in a URL path and a log line. */
export const ircNodeIdSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, dots, dashes or underscores');

/** `200` to `GET /internal/irc/status`. */
export const ircStatusSchema = z.looseObject({
  /**
   * The answering node's `IRC_NODE_ID`: the web side trusts an answer only from the node it expects there.
   * Optional on the wire so that an IRC service older than the cluster is still read (as an unnamed node).
   */
  node: ircNodeIdSchema.optional(),
  /** Ascending ids of servers whose connection actor is registered on its network. */
  connections: z.array(z.number().int().positive()),
  /**
   * Ascending ids of servers whose connection is `failed` (banned, password refused, no acceptable nickname): it
   * does not reconnect by itself, so nobody should ask again but an operator. Left out when there are none.
   */
  failed: z.array(z.number().int().positive()).optional(),
});
export type IrcStatus = z.infer<typeof ircStatusSchema>;

/** A moment on the wire: ISO 8601 in UTC, as `Date.prototype.toISOString()` writes it. */
const isoTimeSchema = z.iso.datetime();

/** Text that came from an IRC line or a socket: no NUL, CR or LF, as no IRC line holds them. */
const lineText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[^\0\r\n]*$/, 'expected no NUL, CR or LF');

/** Why a connection last failed: the socket error, a ping timeout, the server's ERROR line or an error reply. */
export const connectionErrorSchema = z.object({
  message: lineText(0, 500),
  at: isoTimeSchema,
});
export type ConnectionError = z.infer<typeof connectionErrorSchema>;

/**
 * One connection as its actor has it: the machine state as a dotted path (`socket.connecting`,
 * `socket.registered`, `socket.disconnecting`, `reconnecting`, `stopped`; a string, so a follower keeps
 * working when a state is added), since when, the nickname in use (null unless on the network), the
 * reconnect attempt (0 when none), when the next one starts (while reconnecting) and the last failure.
 */
export const connectionStateSchema = z.object({
  serverId: serverIdSchema,
  state: z
    .string()
    .max(100)
    .regex(/^[a-z][A-Za-z]*(\.[a-z][A-Za-z]*)*$/, 'must be a dotted state path'),
  since: isoTimeSchema,
  nickname: lineText(1, 100).nullable(),
  attempt: z.number().int().min(0),
  nextAttemptAt: isoTimeSchema.nullable(),
  lastError: connectionErrorSchema.nullable(),
});
export type ConnectionState = z.infer<typeof connectionStateSchema>;

/** `200` to `GET /internal/irc/connections`: every connection the IRC service holds, ascending by server id. */
export const connectionsAnswerSchema = z.object({ connections: z.array(connectionStateSchema) });
export type ConnectionsAnswer = z.infer<typeof connectionsAnswerSchema>;
