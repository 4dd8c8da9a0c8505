import { describe, expect, it } from 'vitest';
import { fromCallback, type InspectionEvent } from 'xstate';
import type { IrcClientCommand, IrcClientInput } from '../../machines/irc-connection.machine.ts';
import { IrcConnectionRegistry, RegistryClosingError } from '../../src/irc-service/irc-connection-registry.ts';

/** A client that registers at once and closes when told to quit. */
const registeringClient = fromCallback<IrcClientCommand, IrcClientInput>(({ sendBack, receive }) => {
  sendBack({ type: 'REGISTERED', nickname: 'me' });
  receive((command) => {
    if (command.type === 'QUIT') sendBack({ type: 'CLOSED', reason: 'connection closed by the server' });
  });
});

describe('IrcConnectionRegistry: connections spread over several actor systems', () => {
  // more than one system holds (128 connections each)
  const COUNT = 300;

  it("gives each connection's inspector the snapshots of that connection only, in every system", async () => {
    const seen = new Map<number, Set<number>>();
    const registry = new IrcConnectionRegistry({
      clientLogic: registeringClient,
      onEvent: () => {},
      inspect: (serverId) => (event: InspectionEvent) => {
        if (event.type !== '@xstate.snapshot' || event.actorRef.sessionId !== event.rootId) return;
        const { context } = event.snapshot as unknown as { context: { serverId: number } };
        seen.set(serverId, (seen.get(serverId) ?? new Set()).add(context.serverId));
      },
    });
    for (let id = 1; id <= COUNT; id += 1) {
      registry.put(id, { settings: { host: 'irc.example', port: 6667, tls: false, nickname: `n${id}` } });
    }

    expect(registry.registeredIds()).toHaveLength(COUNT);
    expect(seen.size).toBe(COUNT);
    for (const [serverId, ids] of seen) expect([...ids]).toEqual([serverId]);

    await registry.stopAll(1_000);
    expect(registry.size).toBe(0);
  });

  it('stops every connection hard once the quit deadline passes, whichever system holds it', async () => {
    const silentOnQuit = fromCallback<IrcClientCommand, IrcClientInput>(({ sendBack }) => {
      sendBack({ type: 'REGISTERED', nickname: 'me' });
    });
    const registry = new IrcConnectionRegistry({
      clientLogic: silentOnQuit,
      onEvent: () => {},
      timing: { quitTimeoutMs: 60_000 },
    });
    for (let id = 1; id <= COUNT; id += 1) {
      registry.put(id, { settings: { host: 'irc.example', port: 6667, tls: false, nickname: `n${id}` } });
    }

    await registry.stopAll(10);

    expect(registry.size).toBe(0);
    expect(registry.registeredIds()).toEqual([]);
  });
});

describe('IrcConnectionRegistry: shutdown', () => {
  it('refuses PUTs once stopAll has begun: a quitting connection is not revived, and none is started', async () => {
    const quits: number[] = [];
    // registers at once; answers a QUIT only when the test says so
    const answers = new Map<number, () => void>();
    const client = fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack, receive }) => {
      sendBack({ type: 'REGISTERED', nickname: 'me' });
      receive((command) => {
        if (command.type !== 'QUIT') return;
        quits.push(input.serverId);
        answers.set(input.serverId, () => sendBack({ type: 'CLOSED', reason: 'connection closed by the server' }));
      });
    });
    const registry = new IrcConnectionRegistry({ clientLogic: client, onEvent: () => {} });
    const settings = { host: 'irc.example', port: 6667, tls: false, nickname: 'n1' };
    registry.put(1, { settings });

    const stopped = registry.stopAll(1_000);
    // a check that saw server 1 leave the status while it quits hands it over again, and a new one with it
    expect(() => registry.put(1, { settings })).toThrow(RegistryClosingError);
    expect(() => registry.put(2, { settings: { ...settings, nickname: 'n2' } })).toThrow(RegistryClosingError);
    answers.get(1)?.();
    await stopped;

    expect(quits).toEqual([1]);
    expect(registry.size).toBe(0);
    expect(registry.has(2)).toBe(false);
  });
});
