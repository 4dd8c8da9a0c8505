/**
 * The IRC service in the test's own process, with its real client actor (irc-framework) and HTTP app, listening
 * on a free loopback port and followed over its real SSE stream: for end-to-end tests against a real or scripted
 * IRC server that need no second process.
 */
import { serve } from '@hono/node-server';
import type { IrcConnectionTiming } from '../../machines/irc-connection.machine.ts';
import { createIrcServiceApp } from '../../src/irc-service/app.ts';
import { ConnectThrottle } from '../../src/irc-service/connect-throttle.ts';
import { createIrcClientActor, type IrcClientActorOptions } from '../../src/irc-service/irc-client.actor.ts';
import { IrcConnectionRegistry, type IrcEventMap } from '../../src/irc-service/irc-connection-registry.ts';
import { listen } from '../../src/process/listen.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { openSse, type SseEvent } from './sse-client.ts';

const TOKEN = 'e2e-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}` };

/** Short enough that a dead or hung server shows within a second or two. */
export const E2E_TIMING: Partial<IrcConnectionTiming> = {
  reconnectBaseMs: 100,
  reconnectMaxMs: 400,
  reconnectJitter: 0,
  registrationTimeoutMs: 3_000,
  quitTimeoutMs: 1_000,
  pingIntervalMs: 300,
  pingTimeoutMs: 1_000,
};

export interface InProcessIrcServiceOptions {
  timing?: Partial<IrcConnectionTiming>;
  /** The client actor's options beyond its throttle; flood control at a test's pace (100 ms) unless given. */
  client?: Omit<IrcClientActorOptions, 'throttle'>;
}

export async function startInProcessIrcService(options: InProcessIrcServiceOptions = {}) {
  const events = new EventStream<IrcEventMap>({ heartbeatMs: 0 });
  const registry = new IrcConnectionRegistry({
    clientLogic: createIrcClientActor({ throttle: new ConnectThrottle(8), sendIntervalMs: 100, ...options.client }),
    onEvent: (event) => events.publish(event.type, event.payload as never),
    timing: options.timing ?? E2E_TIMING,
  });
  const app = createIrcServiceApp({ registry, events, token: TOKEN });
  const server = await listen(serve, app, '127.0.0.1', 0);
  const stream = await openSse(`${server.url}/internal/irc/events`, auth);

  const request = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  return {
    registry,
    stream,
    request,
    /** The `connections` of GET /internal/irc/status. */
    async status(): Promise<number[]> {
      const answer = await request('GET', '/internal/irc/status');
      return (answer.body as { connections: number[] }).connections;
    },
    async close() {
      stream.close();
      await registry.stopAll(2_000);
      events.close();
      await server.close();
    },
  };
}

export type InProcessIrcService = Awaited<ReturnType<typeof startInProcessIrcService>>;

/** Matches an SSE event of this type whose data has these fields. */
export function ircEvent(type: string, payload: Record<string, unknown>) {
  return (candidate: SseEvent) =>
    candidate.type === type &&
    Object.entries(payload).every(([key, value]) => (candidate.data as Record<string, unknown>)[key] === value);
}
