import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { type ListeningServer, listen } from '../../src/process/listen.ts';
import type { ServerStatusEvent } from '../../src/shared/web-events.ts';
import { seedConnectedServers } from '../support/connection-picture.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { openSse, type SseClient } from '../support/sse-client.ts';
import { type System, startSystem } from '../support/system.ts';
import { webApi } from '../support/web-api.ts';
import { assembleWeb } from '../web/web-harness.ts';

const CLIENTS = 1_000;
const SERVERS = 5;

const kib = (bytes: number) => (bytes / 1024).toFixed(0);

/** Opens `count` browsers' streams, a bounded number at a time. */
async function openClients(url: string, count: number): Promise<SseClient[]> {
  const clients: SseClient[] = [];
  while (clients.length < count) {
    const batch = Math.min(50, count - clients.length);
    clients.push(...(await Promise.all(Array.from({ length: batch }, () => openSse(url)))));
  }
  return clients;
}

/** server-status events one client got, as `serverId:connected`, in order. */
function statusEvents(client: SseClient): string[] {
  return client.events
    .filter((event) => event.type === 'server-status')
    .map((event) => {
      const data = event.data as ServerStatusEvent;
      return `${data.serverId}:${data.connected}`;
    });
}

/** Established TCP connections whose local end is this port (the server's side of each stream). */
async function establishedOnPort(port: number): Promise<number> {
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '01' && local && Number.parseInt(local.split(':')[1] ?? '', 16) === port) count += 1;
    }
  }
  return count;
}

/** Established TCP connections whose remote end is this port (the browsers' side of each stream). */
async function establishedToPort(port: number): Promise<number> {
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [, , remote, state] = line.trim().split(/\s+/);
      if (state === '01' && remote && Number.parseInt(remote.split(':')[1] ?? '', 16) === port) count += 1;
    }
  }
  return count;
}

/**
 * A thousand browsers follow one web instance's `/events` while its checks run: every browser gets every
 * `server-status` change exactly once, and browsers that leave leave nothing behind.
 */
describe.skipIf(lacks('ngircd'))('fault: 1,000 browsers on one web instance', { timeout: 120_000 }, () => {
  let system: System;
  let clients: SseClient[] = [];

  beforeAll(async () => {
    system = await startSystem({ env: { HEALTH_CHECK_INTERVAL_MS: '250' } });
    await webApi(system.web.url).settled();
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await system?.dispose();
  });

  it('every browser receives each server-status change once while checks keep running, then the sockets close', async () => {
    const port = Number(new URL(system.web.url).port);
    clients = await openClients(`${system.web.url}/events`, CLIENTS);
    expect(await establishedOnPort(port)).toBeGreaterThanOrEqual(CLIENTS);

    // five servers the database wrongly calls connected: the next check disconnects them
    const ids = await seedConnectedServers(system.db.query, {
      servers: SERVERS,
      channelsPerServer: 1,
      usersPerChannel: 1,
    });
    const firstRound = ids.map((id) => `${id}:false`);
    await eventually(() => clients.every((client) => statusEvents(client).length >= SERVERS), 30_000);
    // a few more checks run; none of them may repeat a change
    const healthSeen = clients[0]!.events.length;
    await eventually(
      () => clients[0]!.events.filter((event) => event.type === 'health').length >= healthSeen + 6,
      30_000,
    );
    for (const client of clients) expect(statusEvents(client).sort()).toEqual(firstRound.sort());

    // the same servers wrongly marked connected again: a second change each
    await system.db.query(`update servers set connected_at = now() - interval '1 hour' where id = any($1::int[])`, [
      ids,
    ]);
    await eventually(() => clients.every((client) => statusEvents(client).length >= 2 * SERVERS), 30_000);
    const afterSecond = clients[0]!.events.length;
    await eventually(() => clients[0]!.events.length >= afterSecond + 6, 30_000);
    for (const client of clients) expect(statusEvents(client).sort()).toEqual([...firstRound, ...firstRound].sort());

    for (const client of clients) client.close();
    clients = [];

    await eventually(async () => (await establishedOnPort(port)) < 10, 30_000);
  });
});

/**
 * The same with the web app in this process, where the stream's own count of clients and the heap can be
 * read: after 1,000 real sockets come and go, the count is back to 0 and their memory is collectable.
 */
describe('fault: 1,000 browsers come and go (the web app in-process)', { timeout: 120_000 }, () => {
  let database: { db: TestDatabase; orm: MikroORM; close(): Promise<void> };
  let web: ReturnType<typeof assembleWeb>;
  let server: ListeningServer;

  beforeAll(async () => {
    database = await createTestOrm();
    web = assembleWeb(database.orm);
    server = await listen(serve, web.app, '127.0.0.1', 0);
  });

  afterAll(async () => {
    await server?.close();
    await web?.close();
    await database?.close();
  });

  it('counts every client while connected, 0 once they left, and keeps no memory of them', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heapAfterGc = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const port = Number(new URL(server.url).port);
    let serverId = 0;

    /** 1,000 browsers connect, each gets every change once, then they all leave; answers the heap meanwhile. */
    const round = async (): Promise<number> => {
      const clients = await openClients(`${server.url}/events`, CLIENTS);
      expect(web.events.clientCount).toBe(CLIENTS);
      const expected: string[] = [];
      for (let i = 0; i < SERVERS; i += 1) {
        serverId += 1;
        web.events.publish('server-status', { serverId, connected: false, connectedAt: null });
        expected.push(`${serverId}:false`);
      }
      await eventually(() => clients.every((client) => statusEvents(client).length === SERVERS), 30_000);
      for (const client of clients) expect(statusEvents(client)).toEqual(expected);
      const connected = heapAfterGc();

      for (const client of clients) client.close();
      await eventually(() => web.events.clientCount === 0, 30_000);
      // both ends of every socket are gone (the browsers' and the server's sides both live in this process)
      await eventually(async () => (await establishedOnPort(port)) + (await establishedToPort(port)) === 0, 30_000);
      return connected;
    };

    // the first round also warms up what any number of clients share (code, pools, the replay buffer)
    await round();
    const baseline = heapAfterGc();
    const connected = (await round()) - baseline;
    const afterSecond = heapAfterGc() - baseline;
    await round();
    const afterThird = heapAfterGc() - baseline;

    expect(web.events.clientCount).toBe(0);
    console.info(
      `heap with ${CLIENTS} clients: +${kib(connected)} KiB; after they left: +${kib(afterSecond)} KiB, ` +
        `after another round: +${kib(afterThird)} KiB`,
    );
    // what stays after each round is a small fraction of what the connected clients took, and does not grow
    expect(afterSecond).toBeLessThan(connected / 10);
    expect(afterThird).toBeLessThan(connected / 10);
  });
});
