import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientInput } from '../../machines/irc-connection.machine.ts';
import { createIrcServiceApp } from '../../src/irc-service/app.ts';
import { IrcConnectionRegistry, type IrcEventMap } from '../../src/irc-service/irc-connection-registry.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';

/**
 * Property-based: whatever body or path reaches the IRC service's internal API, the answer is a 202, a
 * 404 or a 400 naming the field — never a 500 — and a refused PUT starts no connection.
 */
const TOKEN = 'property-token-0123456789';
const headers = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

describe('IRC service input (property-based)', () => {
  const opened: IrcClientInput[] = [];
  let registry: IrcConnectionRegistry;
  let events: EventStream<IrcEventMap>;
  let app: ReturnType<typeof createIrcServiceApp>;

  beforeAll(() => {
    const logic = fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack }) => {
      opened.push(input);
      sendBack({ type: 'REGISTERED', nickname: input.settings.nickname });
    });
    events = new EventStream<IrcEventMap>({ heartbeatMs: 0 });
    registry = new IrcConnectionRegistry({ clientLogic: logic, onEvent: () => {} });
    app = createIrcServiceApp({ registry, events, token: TOKEN });
  });
  afterAll(async () => {
    events.close();
    await registry.stopAll(1_000);
  });

  const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom('', 'a\r\nQUIT', 'x\u0000'));
  const value = fc.oneof(
    text,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(text, { maxLength: 3 }),
  );
  const settings = fc.record(
    {
      host: fc.oneof(fc.domain(), text),
      port: fc.oneof(fc.integer({ min: 1, max: 65_535 }), value),
      tls: fc.oneof(fc.boolean(), value),
      nickname: fc.oneof(fc.stringMatching(/^[a-z]{1,9}$/), text),
      username: value,
      realname: value,
      password: value,
      channels: fc.oneof(fc.array(fc.oneof(text, fc.constant('#ok')), { maxLength: 4 }), value),
      extra: value,
    },
    { requiredKeys: [] },
  );

  async function expectClean(response: Response, allowed: number[]) {
    expect(allowed).toContain(response.status);
    if (response.status === 400) expect(typeof (await response.json()).error.field).toBe('string');
  }

  it('PUT /internal/irc/connections/:serverId: 202 or a 400 naming the field; a refusal opens nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(settings, fc.jsonValue()), async (body) => {
        const before = opened.length;
        const response = await app.request('/internal/irc/connections/7', {
          method: 'PUT',
          headers,
          body: JSON.stringify(body),
        });
        await expectClean(response, [202, 400]);
        if (response.status === 400) expect(opened.length).toBe(before);
      }),
      { numRuns: 80 },
    );
  });

  it('every path parameter and channel body: 202, 404 or a 400 naming the field', async () => {
    const id = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }), fc.integer().map(String));
    const requests = fc.oneof(
      id.map((raw) => ['DELETE', `/internal/irc/connections/${encodeURIComponent(raw)}`, undefined] as const),
      fc
        .tuple(id, fc.oneof(fc.record({ name: text }), fc.jsonValue()))
        .map(
          ([raw, body]) =>
            ['POST', `/internal/irc/connections/${encodeURIComponent(raw)}/channels`, JSON.stringify(body)] as const,
        ),
      fc
        .tuple(id, text)
        .map(
          ([raw, channel]) =>
            [
              'DELETE',
              `/internal/irc/connections/${encodeURIComponent(raw)}/channels/${encodeURIComponent(channel || 'x')}`,
              undefined,
            ] as const,
        ),
    );
    await fc.assert(
      fc.asyncProperty(requests, async ([method, path, body]) => {
        const response = await app.request(path, { method, headers, body });
        await expectClean(response, [202, 404, 400]);
      }),
      { numRuns: 80 },
    );
  });
});
