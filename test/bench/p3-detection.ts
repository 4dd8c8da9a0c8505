/**
 * P3: detection. The whole system runs as real processes (PostgreSQL, ngircd, the IRC service, the web
 * side) with one server connected; the IRC service is SIGKILLed and the clock runs until the browser
 * stream `/events` delivers that server's `server-status` (connected: false), which the web side sends
 * only after the row is committed (checked right after). The floor is the least any detector must do
 * once the service is dead: one refused TCP connect to its port and the raw transition for that server
 * through pg.
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { freePort } from '../../src/process/free-port.ts';
import { type Ngircd, startNgircd } from '../support/ngircd.ts';
import type { RunningProcess } from '../support/process.ts';
import { openSse, type SseClient, type SseEvent } from '../support/sse-client.ts';
import { createBenchDatabase } from './bench-database.ts';
import { startSide, until as untilIn } from './bench-processes.ts';
import { type Benchmark, limitFigure, median } from './bench-types.ts';

const SIZES = { full: { rounds: 5 }, tiny: { rounds: 1 } };
const GOAL_MS = 1_000;

const until = (what: string, probe: () => boolean | Promise<boolean>, timeoutMs?: number) =>
  untilIn('P3', what, probe, timeoutMs);

function refusedConnect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error('P3 floor: the dead port accepted a connection'));
    });
    socket.once('error', () => resolve());
  });
}

async function rawDisconnect(pool: pg.Pool, serverId: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rowCount } = await client.query(
      'update servers set connected_at = null, updated_at = now() where id = any($1::int[]) and connected_at is not null',
      [[serverId]],
    );
    if (rowCount !== 1) throw new Error('P3 floor: the floor server was not connected');
    await client.query('update channels set joined = false where server_id = any($1::int[]) and joined', [[serverId]]);
    await client.query(
      `delete from channel_users using channels
       where channel_users.channel_id = channels.id and channels.server_id = any($1::int[])`,
      [[serverId]],
    );
    await client.query('commit');
  } finally {
    client.release();
  }
}

export const detectionBenchmark: Benchmark = {
  id: 'P3',
  title: 'detection of a killed IRC service',
  needs: ['ngircd'],
  async run({ size, progress, adminUrl }) {
    const { rounds } = SIZES[size];
    const database = await createBenchDatabase(adminUrl);
    let ircd: Ngircd | undefined;
    let irc: RunningProcess | undefined;
    let web: RunningProcess | undefined;
    let stream: SseClient | undefined;
    try {
      ircd = await startNgircd();
      const [ircPort, webPort] = [await freePort(), await freePort()];
      const ircUrl = `http://127.0.0.1:${ircPort}`;
      const webUrl = `http://127.0.0.1:${webPort}`;
      const env = {
        NODE_ENV: 'production',
        DATABASE_URL: database.url,
        INTERNAL_API_TOKEN: `bench-token-${Math.random().toString(36).slice(2)}-0123456789`,
        IRC_SERVICE_PORT: String(ircPort),
        IRC_SERVICE_URL: ircUrl,
        PORT: String(webPort),
        LOG_LEVEL: 'warn',
      };
      const start = (entry: string, url: string) => startSide('P3', entry, url, env);
      progress('P3 starting the IRC service and the web side');
      irc = await start('src/irc-service/main.ts', ircUrl);
      web = await start('src/web/main.ts', webUrl);
      stream = await openSse(`${webUrl}/events`);
      const followed = stream.events;

      const api = async (path: string, body?: object) => {
        const response = await fetch(`${webUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: body ? JSON.stringify(body) : undefined,
        });
        if (!response.ok) throw new Error(`P3: POST ${path} answered ${response.status}: ${await response.text()}`);
        return (await response.json()) as { id: number };
      };
      const { id: serverId } = await api('/api/servers', {
        name: 'bench',
        host: ircd.host,
        port: ircd.port,
        nickname: 'p3bench',
      });
      const connected = async () =>
        (await database.pool.query('select 1 from servers where id = $1 and connected_at is not null', [serverId]))
          .rowCount === 1;
      const {
        rows: [floorRow],
      } = await database.pool.query<{ id: number }>(
        `insert into servers (name, host, port, nickname) values ('floor', '127.0.0.1', 1, 'floor') returning id`,
      );
      const floorId = floorRow!.id;

      const project: number[] = [];
      const floor: number[] = [];
      let restartMark: number | undefined;
      for (let round = 1; round <= rounds; round += 1) {
        progress(`P3 round ${round}/${rounds}: connecting`);
        await api(`/api/servers/${serverId}/connect`);
        await until('the server connected', connected);
        if (restartMark !== undefined) {
          // the web side follows the restarted service's stream once the check it runs on reopening answered
          const since = restartMark;
          await until('a health check answered', () =>
            followed
              .slice(since)
              .some((event) => event.type === 'health' && (event.data as { outcome?: string }).outcome === 'answered'),
          );
        }

        progress(`P3 round ${round}/${rounds}: SIGKILL`);
        const mark = followed.length;
        const killedAt = performance.now();
        irc.child.kill('SIGKILL');
        await irc.exited;
        const disconnectedStatus = (event: SseEvent) => {
          const status = event.data as { serverId?: number; connected?: boolean };
          return event.type === 'server-status' && status.serverId === serverId && !status.connected;
        };
        await until('the server-status event', () => followed.slice(mark).some(disconnectedStatus), 10_000);
        const event = followed.slice(mark).find(disconnectedStatus)!;
        if (await connected()) throw new Error('P3: the event came but the row still says connected');
        project.push(event.at - killedAt);

        await database.pool.query('update servers set connected_at = now() where id = $1', [floorId]);
        const floorStarted = performance.now();
        await refusedConnect(ircPort);
        await rawDisconnect(database.pool, floorId);
        floor.push(performance.now() - floorStarted);

        if (round < rounds) {
          progress(`P3 round ${round}/${rounds}: restarting the IRC service`);
          restartMark = followed.length;
          irc = await start('src/irc-service/main.ts', ircUrl);
        }
      }
      return [
        limitFigure(
          'P3',
          'detection: SIGKILL of the IRC service → row cleared and server-status on /events',
          median(project),
          median(floor),
          'ms',
          GOAL_MS,
          'floor: a refused TCP connect plus the raw transition for that server',
        ),
      ];
    } finally {
      stream?.close();
      await web?.kill();
      await irc?.kill();
      await ircd?.dispose();
      await database.drop();
    }
  },
};
