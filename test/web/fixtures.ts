import { createLogger } from '../../src/logger.ts';
import type { WebEventMap, WebEventType } from '../../src/shared/web-events.ts';
import type { WebEventPublisher } from '../../src/web/browser-events/web-event-publisher.ts';
import { IrcEventConsumer, type IrcEventConsumerOptions } from '../../src/web/irc-events/irc-event-consumer.ts';
import { IrcCluster } from '../../src/web/irc-service/irc-cluster.ts';
import type { TestDatabase } from '../support/database.ts';

export const IRC_SERVICE_URL = 'http://irc-service.test';
export const STATUS_URL = `${IRC_SERVICE_URL}/internal/irc/status`;
export const TOKEN = 'test-token-0123456789';

export interface ChannelSeed {
  name: string;
  joined?: boolean;
  users?: string[];
}

export interface ServerSeed {
  /** SQL expression for connected_at, e.g. `now() - interval '1 hour'`; null when disconnected. */
  connectedAt?: string | null;
  channels?: ChannelSeed[];
}

/** Inserts a server with its channels and their users; returns the server's id. */
export async function insertServer(db: TestDatabase, seed: ServerSeed = {}): Promise<number> {
  const connectedAt = seed.connectedAt === undefined ? "now() - interval '1 hour'" : seed.connectedAt;
  const [server] = await db.query<{ id: number }>(
    `insert into servers (name, host, port, nickname, connected_at)
     values ('net', 'irc.example', 6697, 'me', ${connectedAt ?? 'null'}) returning id`,
  );
  const serverId = server!.id;
  for (const channel of seed.channels ?? []) {
    const [row] = await db.query<{ id: number }>(
      'insert into channels (server_id, name, joined) values ($1, $2, $3) returning id',
      [serverId, channel.name, channel.joined ?? true],
    );
    for (const nickname of channel.users ?? []) {
      await db.query('insert into channel_users (channel_id, nickname) values ($1, $2)', [row!.id, nickname]);
    }
  }
  return serverId;
}

export interface ServerPicture {
  connected: boolean;
  connectedAt: string | null;
  joinedChannels: number;
  channelUsers: number;
}

/** What the database says about one server, in the terms a user would notice. */
export async function serverPicture(db: TestDatabase, serverId: number): Promise<ServerPicture> {
  const [row] = await db.query<{ connected_at: string | null; joined: number; users: number }>(
    `select to_json(s.connected_at) #>> '{}' as connected_at,
       (select count(*)::int from channels c where c.server_id = s.id and c.joined) as joined,
       (select count(*)::int from channel_users u join channels c on c.id = u.channel_id where c.server_id = s.id) as users
     from servers s where s.id = $1`,
    [serverId],
  );
  if (!row) throw new Error(`no server ${serverId}`);
  return {
    connected: row.connected_at !== null,
    connectedAt: row.connected_at,
    joinedChannels: row.joined,
    channelUsers: row.users,
  };
}

export interface RecordedEvent<T extends WebEventType = WebEventType> {
  type: T;
  payload: WebEventMap[T];
}

/** A publisher that remembers what it was asked to broadcast. */
export function recordingPublisher(): WebEventPublisher & { events: RecordedEvent[] } {
  const events: RecordedEvent[] = [];
  return {
    events,
    get position() {
      return `recorded-${events.length}`;
    },
    publish(type, payload) {
      events.push({ type, payload } as RecordedEvent);
    },
  };
}

/** Starts an IrcEventConsumer with the test token and a silent logger; `cleanups` stops it. */
export function startConsumer(
  cleanups: Array<() => unknown>,
  options: Omit<IrcEventConsumerOptions, 'token' | 'logger'>,
): IrcEventConsumer {
  const consumer = new IrcEventConsumer({ token: TOKEN, logger: createLogger('test', 'silent'), ...options });
  cleanups.push(() => consumer.stop());
  consumer.start();
  return consumer;
}

/** A cluster of these nodes (name → URL), each as after a first check it answered: healthy, holding nothing yet. */
export function answeredCluster(nodes: Record<string, string>): IrcCluster {
  const cluster = IrcCluster.fromConfig(
    Object.entries(nodes).map(([name, url]) => ({ name, url })),
    { token: TOKEN, timeoutMs: 2_000 },
  );
  for (const node of cluster.nodes) node.recordCheck('answered', 'healthy', 0, new Date().toISOString());
  return cluster;
}
