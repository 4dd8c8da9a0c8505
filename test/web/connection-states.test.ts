/** The web side keeps each server's connection state: listed on start and after a reset, followed by events, shown in the API. */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/process/free-port.ts';
import { type ListeningServer, listen } from '../../src/process/listen.ts';
import type { IrcEventPayload, IrcEventType } from '../../src/shared/irc-events.ts';
import type { ConnectionState } from '../../src/shared/irc-service-contract.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import {
  applyConnectionList,
  applyIrcEvents,
  applyNodeConnectionLists,
} from '../../src/web/irc-events/irc-event-applier.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { ConnectionStates } from '../../src/web/servers/connection-states.ts';
import { serversRoutes } from '../../src/web/servers/servers.routes.ts';
import { createTestOrm } from '../support/database.ts';
import { eventually } from '../support/process.ts';
import { insertServer, type RecordedEvent, recordingPublisher, startConsumer, TOKEN } from './fixtures.ts';

type IrcEvents = { [T in IrcEventType]: IrcEventPayload<T> };

/** A stand-in IRC service on a real port: the real EventStream on /internal/irc/events and the test's list on /internal/irc/connections. */
async function startIrcService(
  port: number,
  stream: EventStream<IrcEvents>,
  list: () => ConnectionState[],
): Promise<ListeningServer> {
  const app = new Hono()
    .use('/internal/*', async (c, next) => {
      if (c.req.header('authorization') !== `Bearer ${TOKEN}`) return c.json({ error: { message: 'no' } }, 401);
      await next();
    })
    .get('/internal/irc/events', (c) => stream.response(c.req.header('last-event-id')))
    .get('/internal/irc/connections', (c) => c.json({ connections: list() }));
  return listen(serve, app, '127.0.0.1', port);
}

const refused: ConnectionState = {
  serverId: 0,
  state: 'reconnecting',
  since: '2026-12-03T07:00:01.000Z',
  nickname: null,
  attempt: 3,
  nextAttemptAt: '2026-12-03T07:00:05.000Z',
  lastError: { message: 'connect ECONNREFUSED 127.0.0.1:16668', at: '2026-12-03T07:00:01.000Z' },
};

const registered = (serverId: number): ConnectionState => ({
  serverId,
  state: 'socket.registered',
  since: '2026-12-03T07:00:02.000Z',
  nickname: 'me_',
  attempt: 0,
  nextAttemptAt: null,
  lastError: { message: '433 nickname in use: me', at: '2026-12-03T07:00:01.500Z' },
});

describe('connection states on the web side', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** The web side's parts as main.ts wires them, against a real database and the stand-in IRC service. */
  async function setUp(initialList: (ids: number[]) => ConnectionState[]) {
    const { db, orm, close } = await createTestOrm();
    cleanups.push(close);
    const ids = [await insertServer(db, { connectedAt: null }), await insertServer(db, { connectedAt: null })];
    let list = initialList(ids);
    let listed = 0;
    const answerList = () => {
      listed += 1;
      return list;
    };
    const port = await freePort();
    let stream = new EventStream<IrcEvents>({ heartbeatMs: 0 });
    let service = await startIrcService(port, stream, answerList);
    cleanups.push(
      () => service.close(),
      () => stream.close(),
    );

    const client = new InternalApiClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN, timeoutMs: 2_000 });
    const connections = new ConnectionStates();
    const published = recordingPublisher();
    const consumer = startConsumer(cleanups, {
      baseUrl: `http://127.0.0.1:${port}`,
      events: published,
      retry: { initialMs: 10, maxMs: 50 },
      onStreamChange: () => {},
      apply: (events) => applyIrcEvents(orm.em.fork(), events, connections),
      relist: async () => applyConnectionList(connections, await client.connections()),
    });
    const api = new Hono().route(
      '/api/servers',
      serversRoutes({ orm, ircService: client, events: published, connections }),
    );
    await eventually(() => consumer.isOpen);

    return {
      db,
      orm,
      ids,
      consumer,
      published,
      get stream() {
        return stream;
      },
      /** How many times the web side asked for the list. */
      get listed() {
        return listed;
      },
      setList(next: ConnectionState[]) {
        list = next;
      },
      async servers(): Promise<Array<{ id: number; connection: unknown }>> {
        const body = (await (await api.request('/api/servers')).json()) as {
          servers: Array<{ id: number; connection: unknown }>;
        };
        return body.servers.map(({ id, connection }) => ({ id, connection }));
      },
      async server(id: number) {
        return ((await (await api.request(`/api/servers/${id}`)).json()) as { connection: unknown }).connection;
      },
      connectionEvents() {
        return published.events
          .filter((event): event is RecordedEvent<'connection-state'> => event.type === 'connection-state')
          .map((event) => event.payload);
      },
      /** The IRC service restarts: a new process, so the stream cannot replay and sends `reset`. */
      async restartIrcService() {
        await service.close();
        await eventually(() => !consumer.isOpen);
        stream.close();
        stream = new EventStream<IrcEvents>({ heartbeatMs: 0 });
        service = await startIrcService(port, stream, answerList);
      },
    };
  }

  it('a web side that starts lists the connections once, and shows each beside its server', async () => {
    const web = await setUp(([first]) => [{ ...refused, serverId: first! }]);
    const [first, second] = web.ids as [number, number];
    await eventually(() => web.connectionEvents().length === 1);

    const { serverId: _, ...connection } = { ...refused, serverId: first };
    expect(await web.servers()).toEqual([
      { id: first, connection },
      { id: second, connection: null },
    ]);
    expect(await web.server(first)).toEqual(connection);
    expect(web.connectionEvents()).toEqual([{ serverId: first, connection }]);
    expect(web.listed).toBe(1);
  });

  it('follows connection-state events, and says nothing for one that changes nothing', async () => {
    const web = await setUp(() => []);
    const [first] = web.ids as [number];

    web.stream.publish('connection-state', registered(first));
    web.stream.publish('connection-state', registered(first));
    web.stream.publish('connection-state', { ...registered(first), nickname: 'me__' });
    await eventually(() => web.connectionEvents().length === 2);

    const { serverId: _, ...connection } = { ...registered(first), nickname: 'me__' };
    expect(await web.server(first)).toEqual(connection);
    expect(web.connectionEvents().map((event) => event.connection?.nickname)).toEqual(['me_', 'me__']);
    expect(web.listed).toBe(1);
  });

  it('lists again when a restarted IRC service cannot replay: a connection it no longer holds shows none', async () => {
    const web = await setUp((ids) => ids.map(registered));
    const [first, second] = web.ids as [number, number];
    await eventually(() => web.connectionEvents().length === 2);

    web.setList([{ ...refused, serverId: second }]);
    await web.restartIrcService();
    await eventually(() => web.connectionEvents().length === 4);

    const { serverId: _, ...connection } = { ...refused, serverId: second };
    expect(await web.servers()).toEqual([
      { id: first, connection: null },
      { id: second, connection },
    ]);
    expect(web.connectionEvents().slice(2)).toEqual([
      { serverId: first, connection: null },
      { serverId: second, connection },
    ]);
    expect(web.listed).toBe(2);
  });

  it("keeps each server's state from the node it is placed on when every node lists afresh (a move's target too)", async () => {
    const { db, orm, close } = await createTestOrm();
    cleanups.push(close);
    const moving = await insertServer(db, { connectedAt: null });
    const unplaced = await insertServer(db, { connectedAt: null });
    await db.query(`update servers set irc_node = 'a' where id = $1`, [moving]);
    const connections = new ConnectionStates();

    // a holds the server's connection; b, the drain's target, its new one (listed after a)
    const events = await applyNodeConnectionLists(orm.em.fork(), connections, [
      { node: 'a', states: [{ ...refused, serverId: moving }] },
      { node: 'b', states: [registered(moving), registered(unplaced)] },
    ]);

    expect(connections.get(moving)).toMatchObject({ state: 'reconnecting', attempt: 3 });
    // a server placed nowhere is any node's
    expect(connections.get(unplaced)).toMatchObject({ state: 'socket.registered' });
    expect(events.map((event) => event.payload)).toEqual([
      { serverId: moving, connection: expect.objectContaining({ state: 'reconnecting' }) },
      { serverId: unplaced, connection: expect.objectContaining({ state: 'socket.registered' }) },
    ]);
  });

  it('goes on following events when the list cannot be read', async () => {
    const web = await setUp(() => [{ ...refused, serverId: 0 } as ConnectionState]);
    const [first] = web.ids as [number];

    web.stream.publish('connection-state', registered(first));
    await eventually(() => web.connectionEvents().length === 1);

    expect(web.listed).toBe(1);
    expect(await web.server(first)).toMatchObject({ state: 'socket.registered' });
  });
});
