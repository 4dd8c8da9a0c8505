/** The `servers` table: an IRC server's connection settings, what the operator wants, what was observed. */
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Channel } from './channel.entity.ts';

export const Server = defineEntity({
  name: 'Server',
  tableName: 'servers',
  properties: {
    id: p.integer().primary(),
    name: p.string().length(255),
    host: p.string().length(255),
    port: p.integer(),
    nickname: p.string().length(255),
    username: p.string().length(255).nullable(),
    realname: p.string().length(255).nullable(),
    /** The IRC server password (PASS); never serialized or logged. */
    password: p.string().length(255).nullable().hidden(),
    tls: p.boolean().default(false),
    /** Verify the server's certificate (trust store, name); false accepts a self-signed one. */
    tlsVerify: p.boolean().default(true),
    /** SHA-256 of the one certificate accepted (lower-case hex, no colons). */
    tlsFingerprint: p.text().nullable(),
    /** Client certificate (PEM) for CertFP and SASL EXTERNAL. */
    clientCertificate: p.text().nullable(),
    /** Its private key (PEM); never serialized or logged. */
    clientKey: p.text().nullable().hidden(),
    /** `PLAIN` or `EXTERNAL`; null: no SASL. */
    saslMechanism: p.text().nullable(),
    saslAccount: p.text().nullable(),
    /** SASL PLAIN's password; never serialized or logged. */
    saslPassword: p.text().nullable().hidden(),
    /** A SASL failure fails the connection; false continues unauthenticated. */
    saslRequired: p.boolean().default(true),
    /** Observed: set while the IRC service reports the connection registered. */
    connectedAt: p.datetime().columnType('timestamptz').nullable().index('servers_connected_at_index'),
    /** Wanted: the operator wants this server connected. */
    autoconnect: p.boolean().default(false),
    /** Since when a wish of this server could not be passed on to the IRC service; null once it was. */
    pendingSince: p.datetime().columnType('timestamptz').nullable(),
    /** Why it could not ("the IRC service is unreachable (ECONNREFUSED)"). */
    pendingReason: p.text().nullable(),
    /** Why the IRC service gave up on the connection (banned, password refused, no acceptable nickname); null once registered. */
    failureReason: p.text().nullable(),
    /** When it gave up. */
    failedAt: p.datetime().columnType('timestamptz').nullable(),
    /** Placed: the IRC service node (`IRC_NODE_ID`) this server's connection belongs on; null when placed nowhere. */
    ircNode: p.text().nullable().index('servers_irc_node_index'),
    /** Being moved (a drain, make-before-break): the node its new connection is on until it takes over. */
    movingTo: p.text().nullable(),
    /** Since when it is being moved; a move that lasts too long is given up. */
    movingSince: p.datetime().columnType('timestamptz').nullable(),
    createdAt: p.datetime().columnType('timestamptz').defaultRaw('now()'),
    updatedAt: p
      .datetime()
      .columnType('timestamptz')
      .defaultRaw('now()')
      .onUpdate(() => new Date()),
    channels: () => p.oneToMany(Channel).mappedBy('server'),
  },
});

export type Server = InferEntity<typeof Server>;
