/** The irc-framework client actor, from a scripted server: the reasons a server gives for a refusal (error replies, ERROR lines), and its channel lines once registered. */
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectThrottle } from '../../src/irc-service/connect-throttle.ts';
import { createIrcClientActor } from '../../src/irc-service/irc-client.actor.ts';
import { IrcConnectionRegistry } from '../../src/irc-service/irc-connection-registry.ts';
import type { IrcEvent, IrcEventPayload } from '../../src/shared/irc-events.ts';
import { eventually } from '../support/process.ts';
import { answerRegistration, type RegistrationAnswer, startScriptedIrcServer } from '../support/scripted-irc-server.ts';

describe('IRC client actor: the reasons a server gives', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** One connection through the real client actor to a server that answers its registration so. */
  async function connectTo(answer: (nickname: string) => RegistrationAnswer) {
    const server = await startScriptedIrcServer(answerRegistration(answer));
    const states: Array<IrcEventPayload<'connection-state'>> = [];
    const events: IrcEvent[] = [];
    const registry = new IrcConnectionRegistry({
      clientLogic: createIrcClientActor({ throttle: new ConnectThrottle(8) }),
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'connection-state') states.push(event.payload);
      },
      // one socket is enough to see the reasons: the next attempt is far away
      timing: { reconnectBaseMs: 60_000, reconnectJitter: 0 },
    });
    cleanups.push(
      () => server.dispose(),
      () => registry.stopAll(1_000),
    );
    registry.put(1, { settings: { host: server.host, port: server.port, tls: false, nickname: 'tester' } });
    const reasons = () => [...new Set(states.flatMap((state) => (state.lastError ? [state.lastError.message] : [])))];
    return { registry, states, events, reasons };
  }

  it('a ban: the 465 reply and the ERROR after it are the reason, and the connection is failed rather than retried', async () => {
    const { reasons, registry } = await connectTo((nickname) => ({
      lines: [
        `:irc.test 465 ${nickname} :You are banned from this server`,
        `ERROR :Closing Link: ${nickname}[127.0.0.1] (Banned)`,
      ],
      close: true,
    }));

    await eventually(() => reasons().length === 1);

    expect(reasons()).toEqual([
      'banned by the server (465): You are banned from this server (Closing Link: tester[127.0.0.1] (Banned))',
    ]);
    expect(registry.connectionStates()).toMatchObject([{ serverId: 1, state: 'failed', attempt: 0 }]);
  });

  it('a 465 with neither an ERROR nor a close after it: failed all the same', async () => {
    const { reasons, registry } = await connectTo((nickname) => ({
      lines: [`:irc.test 465 ${nickname} :You are banned from this server`],
      close: false,
    }));

    await eventually(() => reasons().length === 1);

    expect(reasons()).toEqual(['banned by the server (465): You are banned from this server']);
    expect(registry.connectionStates()).toMatchObject([{ serverId: 1, state: 'failed' }]);
  });

  it('a wrong server password: 464, failed', async () => {
    const { reasons, registry } = await connectTo((nickname) => ({
      lines: [`:irc.test 464 ${nickname} :Password incorrect`],
      close: false,
    }));

    await eventually(() => reasons().length === 1);

    expect(reasons()).toEqual(['the server refused the password (464)']);
    expect(registry.connectionStates()).toMatchObject([{ serverId: 1, state: 'failed' }]);
  });

  it('a nickname the server will not take: 432', async () => {
    const { reasons } = await connectTo((nickname) => ({
      lines: [`:irc.test 432 * ${nickname} :Erroneous nickname`],
      close: false,
    }));

    await eventually(() => reasons().length === 1);

    expect(reasons()).toEqual(['432 erroneous nickname: tester']);
  });

  it('a server that closes without a word: the close itself is the reason', async () => {
    const { reasons } = await connectTo(() => ({ lines: [], close: true }));

    await eventually(() => reasons().length === 1);

    expect(reasons()).toEqual(['connection closed by the server']);
  });

  it("channel lines once registered: joins, a part and kicks, ours and other users', become their events", async () => {
    const { events } = await connectTo((nickname) => ({
      lines: [
        `:irc.test 001 ${nickname} :Welcome`,
        `:${nickname}!t@host JOIN #chan`,
        ':alice!a@host JOIN #chan',
        ':alice!a@host PART #chan :bye',
        ':op!o@host KICK #chan bob :out',
        `:op!o@host KICK #chan ${nickname} :out`,
      ],
      close: false,
    }));

    await eventually(() => events.some((event) => event.type === 'parted'));

    const channelEvents = events.filter((event) =>
      ['joined', 'user-joined', 'user-parted', 'parted'].includes(event.type),
    );
    expect(channelEvents).toEqual([
      { type: 'joined', payload: { serverId: 1, channel: '#chan' } },
      { type: 'user-joined', payload: { serverId: 1, channel: '#chan', nickname: 'alice' } },
      { type: 'user-parted', payload: { serverId: 1, channel: '#chan', nickname: 'alice' } },
      { type: 'user-parted', payload: { serverId: 1, channel: '#chan', nickname: 'bob' } },
      { type: 'parted', payload: { serverId: 1, channel: '#chan' } },
    ]);
  });
});
