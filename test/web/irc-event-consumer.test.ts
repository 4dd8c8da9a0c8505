import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/process/free-port.ts';
import { type ListeningServer, listen } from '../../src/process/listen.ts';
import type { IrcEvent, IrcEventPayload, IrcEventType } from '../../src/shared/irc-events.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import type { PendingWebEvent } from '../../src/web/irc-events/irc-event-applier.ts';
import type { StreamChange } from '../../src/web/irc-events/irc-event-consumer.ts';
import { eventually } from '../support/process.ts';
import { recordingPublisher, startConsumer, TOKEN } from './fixtures.ts';

type IrcEvents = { [T in IrcEventType]: IrcEventPayload<T> } & { bogus: { nope: true } };

/** A stand-in IRC service: a real HTTP server with the real EventStream on /internal/irc/events. */
async function startEventSource(port: number, stream: EventStream<IrcEvents>): Promise<ListeningServer> {
  const app = new Hono().get('/internal/irc/events', (c) => {
    if (c.req.header('authorization') !== `Bearer ${TOKEN}`) return c.json({ error: { message: 'no' } }, 401);
    return stream.response(c.req.header('last-event-id'));
  });
  return listen(serve, app, '127.0.0.1', port);
}

/**
 * A stand-in event stream that sends every event after the request's `Last-Event-ID` in one chunk, as a busy
 * stream arrives, then stays open; it keeps each request's `Last-Event-ID`.
 */
function chunkedEventSource(events: readonly IrcEvent[]) {
  const requests: Array<string | undefined> = [];
  const fetchEvents: typeof fetch = async (_input, init) => {
    const lastEventId = new Headers(init?.headers).get('last-event-id') ?? undefined;
    requests.push(lastEventId);
    const frames = events
      .map((event, index) => `id: boot-${index + 1}\nevent: ${event.type}\ndata: ${JSON.stringify(event.payload)}\n\n`)
      .slice(Number(lastEventId?.replace('boot-', '') ?? 0))
      .join('');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(frames));
        init?.signal?.addEventListener('abort', () => controller.error(new Error('aborted')));
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  };
  return { fetch: fetchEvents, requests };
}

const connected = (serverId: number): IrcEvent => ({ type: 'connected', payload: { serverId, nickname: 'me' } });
const connecting = (serverId: number): IrcEvent => ({
  type: 'connection-state',
  payload: {
    serverId,
    state: 'socket.connecting',
    since: '2026-12-03T07:00:00.000Z',
    nickname: null,
    attempt: 0,
    nextAttemptAt: null,
    lastError: null,
  },
});

describe('IrcEventConsumer', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(options: { failFirstApplyOf?: IrcEventType; alwaysFailOn?: IrcEventType } = {}) {
    const port = await freePort();
    let stream = new EventStream<IrcEvents>({ heartbeatMs: 0 });
    let server = await startEventSource(port, stream);
    const applied: IrcEvent[] = [];
    const changes: StreamChange[] = [];
    const published = recordingPublisher();
    let failed = false;
    const consumer = startConsumer(cleanups, {
      baseUrl: `http://127.0.0.1:${port}`,
      events: published,
      retry: { initialMs: 10, maxMs: 50 },
      onStreamChange: (change) => changes.push(change),
      apply: async (events): Promise<PendingWebEvent[]> => {
        if (events.some((event) => event.type === options.alwaysFailOn)) throw new Error('violates a constraint');
        if (events.some((event) => event.type === options.failFirstApplyOf) && !failed) {
          failed = true;
          throw new Error('database unreachable');
        }
        applied.push(...events);
        return events.map((event) => ({
          type: 'server-status',
          payload: { serverId: event.payload.serverId, connected: true, connectedAt: null },
        }));
      },
    });
    cleanups.push(
      () => server.close(),
      () => stream.close(),
    );
    await eventually(() => consumer.isOpen);
    return {
      consumer,
      applied,
      changes,
      published,
      get stream() {
        return stream;
      },
      /** Stops the stand-in (streams cut), then starts it again on the same port, as the same process or a new one. */
      async restart({ newProcess }: { newProcess: boolean }) {
        await server.close();
        await eventually(() => !consumer.isOpen);
        if (newProcess) {
          stream.close();
          stream = new EventStream<IrcEvents>({ heartbeatMs: 0 });
        }
        return {
          publishWhileDown: (event: IrcEvent) => stream.publish(event.type, event.payload as never),
          up: async () => {
            server = await startEventSource(port, stream);
            await eventually(() => consumer.isOpen);
          },
        };
      },
    };
  }

  it('applies each event in order and broadcasts what it changed', async () => {
    const { stream, applied, published, changes } = await setUp();

    stream.publish('connected', { serverId: 1, nickname: 'me' });
    stream.publish('joined', { serverId: 1, channel: '#a' });
    await eventually(() => applied.length === 2);

    expect(applied.map((event) => event.type)).toEqual(['connected', 'joined']);
    expect(published.events).toHaveLength(2);
    expect(changes).toEqual(['started']);
  });

  it('asks for a check when the stream drops and when it opens again, then replays what it missed', async () => {
    const context = await setUp();
    context.stream.publish('connected', { serverId: 1, nickname: 'me' });
    await eventually(() => context.applied.length === 1);

    const outage = await context.restart({ newProcess: false });
    outage.publishWhileDown({ type: 'disconnected', payload: { serverId: 1 } });
    await outage.up();
    await eventually(() => context.applied.length === 2);

    expect(context.changes).toEqual(['started', 'dropped', 'opened']);
    expect(context.applied.map((event) => event.type)).toEqual(['connected', 'disconnected']);
  });

  it('asks for a check (reset) when a restarted IRC service cannot replay', async () => {
    const context = await setUp();
    context.stream.publish('connected', { serverId: 1, nickname: 'me' });
    await eventually(() => context.applied.length === 1);

    const restart = await context.restart({ newProcess: true });
    await restart.up();
    await eventually(() => context.changes.includes('reset'));

    expect(context.changes).toEqual(['started', 'dropped', 'opened', 'reset']);
  });

  it('fetches an event again when applying it failed, so nothing is lost', async () => {
    const { stream, applied } = await setUp({ failFirstApplyOf: 'joined' });

    stream.publish('connected', { serverId: 1, nickname: 'me' });
    stream.publish('joined', { serverId: 1, channel: '#a' });
    stream.publish('parted', { serverId: 1, channel: '#a' });
    await eventually(() => applied.length === 3);

    expect(applied.map((event) => event.type)).toEqual(['connected', 'joined', 'parted']);
  });

  it('skips an event that keeps failing after three tries, asks for a check, and goes on', async () => {
    const { stream, applied, changes } = await setUp({ alwaysFailOn: 'joined' });

    stream.publish('joined', { serverId: 1, channel: '#poison' });
    stream.publish('parted', { serverId: 1, channel: '#a' });
    await eventually(() => applied.length === 1);

    expect(applied.map((event) => event.type)).toEqual(['parted']);
    expect(changes.filter((change) => change === 'reset')).toHaveLength(1);
    expect(changes.filter((change) => change === 'dropped')).toHaveLength(2);
  });

  /** A consumer of `events` sent in one chunk, whose `apply` is given each step it is asked to apply. */
  function consumeChunk(events: readonly IrcEvent[], apply: (step: readonly IrcEvent[]) => void) {
    const source = chunkedEventSource(events);
    const changes: StreamChange[] = [];
    const published = recordingPublisher();
    startConsumer(cleanups, {
      baseUrl: 'http://irc-service.test',
      events: published,
      retry: { initialMs: 1, maxMs: 5 },
      onStreamChange: (change) => changes.push(change),
      apply: async (step) => {
        apply(step);
        return step.map((event) => ({
          type: 'server-status',
          payload: { serverId: event.payload.serverId, connected: true, connectedAt: null },
        }));
      },
      fetch: source.fetch,
    });
    return { requests: source.requests, changes, published };
  }

  it('applies the events that arrive together in steps: each run of connection states and connections at once', async () => {
    const steps: string[][] = [];
    const { published } = consumeChunk(
      [
        connected(1),
        connecting(2),
        connected(2),
        { type: 'joined', payload: { serverId: 1, channel: '#a' } },
        connected(3),
      ],
      (step) => steps.push(step.map((event) => `${event.type} ${event.payload.serverId}`)),
    );

    await eventually(() => published.events.length === 5);

    expect(steps).toEqual([['connected 1', 'connection-state 2', 'connected 2'], ['joined 1'], ['connected 3']]);
  });

  it('applies what arrived while a step was being applied as one step, not an event at a time', async () => {
    const port = await freePort();
    const stream = new EventStream<IrcEvents>({ heartbeatMs: 0 });
    const server = await startEventSource(port, stream);
    const steps: number[][] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const consumer = startConsumer(cleanups, {
      baseUrl: `http://127.0.0.1:${port}`,
      events: recordingPublisher(),
      onStreamChange: () => {},
      apply: async (step) => {
        steps.push(step.map((event) => event.payload.serverId));
        // the first step is slow (a busy database): what comes meanwhile waits for it
        if (steps.length === 1) await held;
        return [];
      },
    });
    cleanups.push(
      () => server.close(),
      () => stream.close(),
    );
    await eventually(() => consumer.isOpen);

    stream.publish('connected', { serverId: 1, nickname: 'me' });
    await eventually(() => steps.length === 1);
    // ten more, each in a turn of its own (each its own chunk on the wire)
    for (let serverId = 2; serverId <= 11; serverId += 1) {
      stream.publish('connected', { serverId, nickname: 'me' });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    release();

    await eventually(() => steps.flat().length === 11);
    expect(steps).toEqual([[1], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]]);
  });

  it('fetches a run whose write failed again from before its first event', async () => {
    const applied: IrcEvent[] = [];
    let failed = false;
    const { requests, published } = consumeChunk(
      [{ type: 'joined', payload: { serverId: 1, channel: '#a' } }, connected(2), connecting(3), connected(3)],
      (step) => {
        if (step.length > 1 && !failed) {
          failed = true;
          throw new Error('database unreachable');
        }
        applied.push(...step);
      },
    );

    await eventually(() => applied.length === 4);

    expect(applied.map((event) => event.type)).toEqual(['joined', 'connected', 'connection-state', 'connected']);
    expect(requests).toEqual([undefined, 'boot-1']);
    expect(published.events).toHaveLength(4);
  });

  it('skips only the event that keeps failing when it is part of a run, and goes on', async () => {
    const applied: IrcEvent[] = [];
    const { changes } = consumeChunk(
      [connected(1), connected(2), connecting(3), { type: 'parted', payload: { serverId: 1, channel: '#a' } }],
      (step) => {
        if (step.some((event) => event.payload.serverId === 2)) throw new Error('violates a constraint');
        applied.push(...step);
      },
    );

    await eventually(() => applied.length === 3);

    expect(applied.map((event) => `${event.type} ${event.payload.serverId}`)).toEqual([
      'connected 1',
      'connection-state 3',
      'parted 1',
    ]);
    expect(changes.filter((change) => change === 'reset')).toHaveLength(1);
  });

  it('skips events outside the contract and goes on', async () => {
    const { stream, applied } = await setUp();

    stream.publish('bogus', { nope: true });
    stream.publish('connected', { serverId: 0, nickname: 'invalid id' });
    stream.publish('connected', { serverId: 2, nickname: 'me' });
    await eventually(() => applied.length === 1);

    expect(applied).toEqual([{ type: 'connected', payload: { serverId: 2, nickname: 'me' } }]);
  });

  it('lists before it reads any event when the stream starts, and publishes what the list changed', async () => {
    const port = await freePort();
    const stream = new EventStream<IrcEvents>({ heartbeatMs: 0 });
    const server = await startEventSource(port, stream);
    const bodies: Array<ReadableStream<Uint8Array> | null> = [];
    const readWhileListing: boolean[] = [];
    const published = recordingPublisher();
    startConsumer(cleanups, {
      baseUrl: `http://127.0.0.1:${port}`,
      events: published,
      onStreamChange: () => {},
      apply: async () => [],
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        bodies.push(response.body);
        return response;
      },
      // a list that takes a while: whatever the consumer would do meanwhile, it has done by the end of it
      relist: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        readWhileListing.push(bodies.at(-1)?.locked ?? true);
        return [{ type: 'connection-state', payload: { serverId: 1, connection: null } }];
      },
    });
    cleanups.push(
      () => server.close(),
      () => stream.close(),
    );

    await eventually(() => published.events.length === 1);

    // the stream's body was not being read yet: every event on it is applied after the list
    expect(readWhileListing).toEqual([false]);
    expect(published.events).toEqual([{ type: 'connection-state', payload: { serverId: 1, connection: null } }]);
  });

  it('keeps retrying while the IRC service is down, without throwing', async () => {
    const port = await freePort();
    const changes: StreamChange[] = [];
    const consumer = startConsumer(cleanups, {
      baseUrl: `http://127.0.0.1:${port}`,
      events: recordingPublisher(),
      retry: { initialMs: 10, maxMs: 20 },
      onStreamChange: (change) => changes.push(change),
      apply: async () => [],
    });

    const stream = new EventStream<IrcEvents>({ heartbeatMs: 0 });
    const server = await startEventSource(port, stream);
    cleanups.push(
      () => server.close(),
      () => stream.close(),
    );
    await eventually(() => consumer.isOpen);

    expect(changes).toEqual(['started']);
  });
});
