/**
 * Property-based: every connection the web side can save (create, then edit) becomes a PUT body that the IRC
 * service's contract accepts, so a setting the operator saved can never be refused at connect time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeChannelName } from '../../src/shared/irc-events.ts';
import { connectionRequestSchema } from '../../src/shared/irc-service-contract.ts';
import { connectionRequest, type SettingsRow } from '../../src/web/servers/connection-settings.ts';
import {
  type CreateServerInput,
  createServerInput,
  joinChannelInput,
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

const createInput: fc.Arbitrary<CreateServerInput> = fc.record(
  {
    name: fc.constant('net'),
    host,
    port: fc.integer({ min: 1, max: 65_535 }),
    nickname,
    tls: fc.boolean(),
    username: fc.option(username),
    realname: fc.option(realname),
    password: fc.option(password),
    autoconnect: fc.boolean(),
  },
  { requiredKeys: ['name', 'host', 'port', 'nickname'] },
);
const updateInput: fc.Arbitrary<UpdateServerInput> = fc.record(
  {
    host,
    port: fc.integer({ min: 1, max: 65_535 }),
    nickname,
    tls: fc.boolean(),
    username: fc.option(username),
    realname: fc.option(realname),
    password: fc.option(password),
  },
  { requiredKeys: [] },
);

/** The row as `POST /api/servers` writes it (absent is null) and as `PATCH` then assigns the parsed fields. */
function savedRow(created: CreateServerInput, updated: UpdateServerInput | undefined): SettingsRow {
  const row: SettingsRow = {
    host: created.host,
    port: created.port,
    tls: created.tls ?? false,
    nickname: created.nickname,
    username: created.username ?? null,
    realname: created.realname ?? null,
    password: created.password ?? null,
  };
  return { ...row, ...updated };
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

          const body = connectionRequest(savedRow(created, updated), wanted);

          const verdict = connectionRequestSchema.safeParse(JSON.parse(JSON.stringify(body)));
          expect(verdict.error?.issues ?? []).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
