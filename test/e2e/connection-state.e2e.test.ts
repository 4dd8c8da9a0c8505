/**
 * Each connection's state and the reason of its failure, end to end: real ngircd (or a scripted server on
 * loopback), the IRC service and the web side as real processes, a real PostgreSQL. Each case is seen where
 * an operator looks: `GET /internal/irc/connections`, `/internal/irc/events`, `GET /api/servers` and `/events`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/process/free-port.ts';
import type { ConnectionState } from '../../src/shared/irc-service-contract.ts';
import type { ConnectionStateEvent, ConnectionView } from '../../src/shared/web-events.ts';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { answerRegistration, type ScriptedIrcServer, startScriptedIrcServer } from '../support/scripted-irc-server.ts';
import { openSse, type SseClient, type SseEvent } from '../support/sse-client.ts';
import { type System, startSettledSystem } from '../support/system.ts';
import type { WebApi } from '../support/web-api.ts';

describe.skipIf(lacks('ngircd'))('connection states and their reasons, end to end', { timeout: 60_000 }, () => {
  let system: System;
  let api: WebApi;
  let ircEvents: SseClient;
  let browserEvents: SseClient;
  let closing: ScriptedIrcServer;
  const observers: IrcObserver[] = [];

  beforeAll(async () => {
    // short ping and backoff settings: a hung network is noticed in about a second; lines paced faster than
    // that timeout, or a fallback NICK queued behind registration would wait longer than a ping may
    ({ system, api } = await startSettledSystem({
      env: {
        IRC_PING_INTERVAL_MS: '300',
        IRC_PING_TIMEOUT_MS: '1000',
        IRC_RECONNECT_MAX_MS: '500',
        IRC_SEND_INTERVAL_MS: '100',
        LOG_LEVEL: 'info',
      },
    }));
    // a server that closes every client with an ERROR line (not a ban: those end in `failed`)
    closing = await startScriptedIrcServer(
      answerRegistration((nickname) => ({
        lines: [`ERROR :Closing Link: ${nickname}[127.0.0.1] (Server restarting)`],
        close: true,
      })),
    );
    ircEvents = await openSse(`${system.irc.url}/internal/irc/events`, {
      authorization: `Bearer ${system.token}`,
    });
    browserEvents = await openSse(`${system.web.url}/events`);
  });

  afterAll(async () => {
    ircEvents?.close();
    browserEvents?.close();
    for (const observer of observers.splice(0)) observer.close();
    await closing?.dispose();
    await system?.dispose();
  });

  /** `GET /internal/irc/connections` of the IRC service process. */
  async function listed(serverId: number): Promise<ConnectionState | undefined> {
    const response = await system.internalFetch(`${system.irc.url}/internal/irc/connections`);
    expect(response.status).toBe(200);
    const { connections } = (await response.json()) as { connections: ConnectionState[] };
    expect(connections.map((connection) => connection.serverId)).toEqual(
      [...connections.map((connection) => connection.serverId)].sort((a, b) => a - b),
    );
    return connections.find((connection) => connection.serverId === serverId);
  }

  /** The server's `connection` in `GET /api/servers`. */
  async function shown(serverId: number): Promise<ConnectionView | null | undefined> {
    const response = await fetch(`${system.web.url}/api/servers`);
    const { servers } = (await response.json()) as {
      servers: Array<{ id: number; connection: ConnectionView | null }>;
    };
    return servers.find((server) => server.id === serverId)?.connection;
  }

  /** The server's `connection` in `GET /api/servers/:id`. */
  async function shownAlone(serverId: number): Promise<ConnectionView | null> {
    const response = await fetch(`${system.web.url}/api/servers/${serverId}`);
    return ((await response.json()) as { connection: ConnectionView | null }).connection;
  }

  /** Waits until every place an operator looks shows the connection in a state that `accept` takes. */
  async function seenEverywhere(serverId: number, accept: (connection: ConnectionView) => boolean) {
    const onIrcEvents = await ircEvents.waitFor(
      (event: SseEvent) =>
        event.type === 'connection-state' &&
        (event.data as ConnectionState).serverId === serverId &&
        accept(event.data as ConnectionState),
      15_000,
    );
    const onBrowserEvents = await browserEvents.waitFor((event: SseEvent) => {
      const data = event.data as ConnectionStateEvent;
      return (
        event.type === 'connection-state' && data.serverId === serverId && !!data.connection && accept(data.connection)
      );
    }, 15_000);
    // eventually() resolves only with a value that passed
    const inList = (await eventually(async () => {
      const connection = await listed(serverId);
      return connection && accept(connection) ? connection : undefined;
    }, 15_000))!;
    const inApi = (await eventually(async () => {
      const connection = await shown(serverId);
      return connection && accept(connection) ? connection : undefined;
    }, 15_000))!;
    return {
      onIrcEvents: onIrcEvents.data as ConnectionState,
      onBrowserEvents: (onBrowserEvents.data as ConnectionStateEvent).connection!,
      inList,
      inApi,
    };
  }

  async function connectServer(server: { host: string; port: number; nickname: string }): Promise<number> {
    const serverId = await api.createServer(server);
    await api.connect(serverId);
    return serverId;
  }

  it('a refused port: reconnecting, the attempt, the next one, and the socket error', async () => {
    const port = await freePort();
    const serverId = await connectServer({ host: '127.0.0.1', port, nickname: 'refused' });

    const seen = await seenEverywhere(
      serverId,
      (connection) => connection.state === 'reconnecting' && connection.attempt >= 1,
    );

    for (const connection of Object.values(seen)) {
      expect(connection).toMatchObject({ state: 'reconnecting', nickname: null });
      expect(connection.attempt).toBeGreaterThanOrEqual(1);
      expect(connection.nextAttemptAt).not.toBeNull();
      expect(connection.lastError?.message).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
    }
    // the IRC service's log says why it reconnects
    const reconnecting = (system.irc.process?.output() ?? '')
      .split('\n')
      .filter((line) => line.includes('"msg":"reconnecting"') && line.includes(`"serverId":${serverId},`));
    expect(reconnecting.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(reconnecting[0]!).reason).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('a nickname collision: registered under the fallback nickname, the 433 as the last error', async () => {
    const holder = await connectObserver(system.ircd, 'wanted');
    observers.push(holder);
    const serverId = await connectServer({ host: system.ircd.host, port: system.ircd.port, nickname: 'wanted' });

    const seen = await seenEverywhere(serverId, (connection) => connection.state === 'socket.registered');

    for (const connection of Object.values(seen)) {
      expect(connection).toMatchObject({ state: 'socket.registered', nickname: 'wanted_', nextAttemptAt: null });
      expect(connection.lastError?.message).toBe('433 nickname in use: wanted');
    }
  });

  it('a server that closes with an ERROR line: the line is the reason', async () => {
    const serverId = await connectServer({ host: '127.0.0.1', port: closing.port, nickname: 'restarts' });

    const seen = await seenEverywhere(
      serverId,
      (connection) => connection.state === 'reconnecting' && connection.lastError !== null,
    );

    for (const connection of Object.values(seen)) {
      expect(connection.lastError?.message).toBe('ERROR :Closing Link: restarts[127.0.0.1] (Server restarting)');
    }
  });

  it('a hung server (SIGSTOP): off the network, the ping timeout as the reason', async () => {
    const serverId = await connectServer({ host: system.ircd.host, port: system.ircd.port, nickname: 'hung' });
    await seenEverywhere(serverId, (connection) => connection.state === 'socket.registered');

    await system.ircd.kill('SIGSTOP');
    try {
      const seen = await seenEverywhere(
        serverId,
        (connection) => connection.lastError?.message.startsWith('Ping timeout') === true,
      );

      for (const connection of Object.values(seen)) {
        expect(connection.lastError?.message).toBe('Ping timeout (1000 ms)');
        expect(connection.state).not.toBe('socket.registered');
        expect(connection.nickname).toBeNull();
      }
    } finally {
      await system.ircd.kill('SIGCONT');
    }
  });

  it('a web side that restarts shows the states at once: it lists them from the IRC service', async () => {
    const holder = await connectObserver(system.ircd, 'taken');
    observers.push(holder);
    const serverId = await connectServer({ host: system.ircd.host, port: system.ircd.port, nickname: 'taken' });
    const before = await seenEverywhere(serverId, (connection) => connection.state === 'socket.registered');

    await system.web.signal('SIGKILL');
    await system.web.start();

    // registered and stable: no event tells it again, only the list can
    const { serverId: _, ...listedBefore } = before.inList;
    const after = await eventually(async () => (await shown(serverId)) ?? undefined, 10_000);
    expect(after).toEqual(listedBefore);
    expect(await shownAlone(serverId)).toEqual(listedBefore);
    expect(after).toMatchObject({ nickname: 'taken_', lastError: { message: '433 nickname in use: taken' } });
  });
});
