/**
 * Property-based: every connection the web side can save (create, then edit) becomes a PUT body that the IRC
 * service's contract accepts, so a setting the operator saved can never be refused at connect time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeChannelName } from '../../src/shared/irc-events.ts';
import { connectionRequestSchema, connectionSecurityProblem } from '../../src/shared/irc-service-contract.ts';
import { connectionRequest, type SettingsRow } from '../../src/web/servers/connection-settings.ts';
import {
  type CreateServerInput,
  createServerInput,
  joinChannelInput,
  securityColumns,
  type UpdateServerInput,
  updateServerInput,
} from '../../src/web/servers/server-input.ts';

/** Values the web side's rule for a field accepts: candidates, kept when that very rule says yes. */
const accepted = <T>(rule: { safeParse(value: unknown): { success: boolean } }, candidates: fc.Arbitrary<T>) =>
  candidates.filter((value) => rule.safeParse(value).success);

/**
 * Text short and long, around and past the web side's limit `near`, with characters a limit may count differently
 * (astral, combining) and control characters the web side refuses.
 */
const text = (near: number) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: near + 10 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: near + 10 }),
    fc.string({ unit: 'grapheme-ascii', minLength: Math.max(1, near - 10), maxLength: near + 60 }),
  );

const fields = createServerInput.shape;
const host = accepted(
  fields.host,
  fc.oneof(
    fc.domain(),
    fc.ipV4(),
    fc.ipV6(),
    fc.stringMatching(/^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?|\[?[0-9A-Fa-f:.]+\]?)$/),
    fc
      .tuple(fc.constantFrom(' ', '\t', ''), fc.domain(), fc.constantFrom(' ', '\n', ''))
      .map((parts) => parts.join('')),
  ),
);
const nickname = accepted(fields.nickname, fc.stringMatching(/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/));
const username = accepted(fields.username, fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.~-]{1,32}$/), text(32)));
const realname = accepted(fields.realname, text(100));
const password = accepted(fields.password, text(200));
const channelName = accepted(
  joinChannelInput.shape.name,
  fc.tuple(fc.constantFrom('#', '&', '+', '!', ' #'), text(50)).map(([prefix, name]) => prefix + name),
);

const tlsFingerprint = accepted(
  fields.tlsFingerprint,
  fc
    .tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(':', ''), fc.boolean())
    .map(([bytes, separator, upper]) => {
      const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(separator);
      return upper ? hex.toUpperCase() : hex;
    }),
);
/** PEM-shaped text (the contract checks the armour, TLS the rest). */
const pem = (label: string) =>
  fc
    .base64String({ minLength: 4, maxLength: 200 })
    .map((body) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`);
const clientCertificate = accepted(fields.clientCertificate, pem('CERTIFICATE'));
const clientKey = accepted(fields.clientKey, fc.oneof(pem('PRIVATE KEY'), pem('RSA PRIVATE KEY')));
const sasl = accepted(
  fields.sasl,
  fc.oneof(
    fc.record({ mechanism: fc.constant('PLAIN' as const), account: text(100), password: text(200) }),
    fc.constant({ mechanism: 'EXTERNAL' as const }),
  ),
);
const security = {
  tlsVerify: fc.boolean(),
  tlsFingerprint: fc.option(tlsFingerprint),
  clientCertificate: fc.option(clientCertificate),
  clientKey: fc.option(clientKey),
  sasl: fc.option(sasl),
  saslRequired: fc.boolean(),
};

/** What a server's creation and its update both may set. */
const connectionFields = {
  host,
  port: fc.integer({ min: 1, max: 65_535 }),
  nickname,
  tls: fc.boolean(),
  username: fc.option(username),
  realname: fc.option(realname),
  password: fc.option(password),
  ...security,
};
const createInput: fc.Arbitrary<CreateServerInput> = fc.record(
  { name: fc.constant('net'), ...connectionFields, autoconnect: fc.boolean() },
  { requiredKeys: ['name', 'host', 'port', 'nickname'] },
);
const updateInput: fc.Arbitrary<UpdateServerInput> = fc.record(connectionFields, { requiredKeys: [] });

/** The row as `POST /api/servers` writes it (absent is null) and as `PATCH` then assigns the parsed fields. */
function savedRow(created: CreateServerInput, updated: UpdateServerInput | undefined): SettingsRow {
  const columns = securityColumns(created);
  const row: SettingsRow = {
    host: created.host,
    port: created.port,
    tls: created.tls ?? false,
    nickname: created.nickname,
    username: created.username ?? null,
    realname: created.realname ?? null,
    password: created.password ?? null,
    tlsVerify: columns.tlsVerify ?? true,
    tlsFingerprint: columns.tlsFingerprint ?? null,
    clientCertificate: columns.clientCertificate ?? null,
    clientKey: columns.clientKey ?? null,
    saslMechanism: columns.saslMechanism ?? null,
    saslAccount: columns.saslAccount ?? null,
    saslPassword: columns.saslPassword ?? null,
    saslRequired: columns.saslRequired ?? true,
  };
  if (!updated) return row;
  const { tlsVerify, tlsFingerprint, clientCertificate, clientKey, sasl, saslRequired, ...plain } = updated;
  return {
    ...row,
    ...plain,
    ...securityColumns({ tlsVerify, tlsFingerprint, clientCertificate, clientKey, sasl, saslRequired }),
  };
}

/** Whether the routes would save this row: they answer 400 to TLS and SASL settings that disagree. */
function routesSave(row: SettingsRow): boolean {
  const sasl = row.saslMechanism ? { mechanism: row.saslMechanism } : null;
  return connectionSecurityProblem({ ...row, sasl }) === undefined;
}

describe('the IRC service contract (property-based)', () => {
  it('every connection the web side saves becomes a PUT body the IRC service accepts', () => {
    fc.assert(
      fc.property(
        createInput,
        fc.option(updateInput, { nil: undefined }),
        fc.uniqueArray(channelName, { maxLength: 5 }),
        (create, update, channels) => {
          // what the web side stores: its own parsed values (trimmed), channel names folded as the routes fold them
          const created = createServerInput.parse(create);
          const updated = update && Object.keys(update).length > 0 ? updateServerInput.parse(update) : undefined;
          const wanted = [
            ...new Set(channels.map((name) => normalizeChannelName(joinChannelInput.parse({ name }).name))),
          ];

          const row = savedRow(created, updated);
          fc.pre(routesSave(row));
          const body = connectionRequest(row, wanted);

          const verdict = connectionRequestSchema.safeParse(JSON.parse(JSON.stringify(body)));
          expect(verdict.error?.issues ?? []).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
