/** Puts a server on a real IRC network through the web API and waits until the database shows it. */
import { type ConnectionPicture, connectionPicture, type Query } from './connection-picture.ts';
import { eventually } from './process.ts';
import type { WebApi } from './web-api.ts';

export interface LiveServerOptions {
  ircd: { host: string; port: number };
  nickname: string;
  channel: string;
  /** Users the channel must list (the connection's own nickname included) before it counts as live. */
  expectedUsers: number;
}

/**
 * Adds a server through the web API, connects it and joins a channel, then waits until the database
 * shows it the way the IRC network has it: connected, the channel joined, its users listed.
 */
export async function connectLiveServer(api: WebApi, query: Query, options: LiveServerOptions): Promise<number> {
  const serverId = await api.createServer({
    host: options.ircd.host,
    port: options.ircd.port,
    nickname: options.nickname,
  });
  await api.connect(serverId);
  await eventually(async () => (await connectionPicture(query, [serverId])).connectedServers === 1, 10_000);
  await api.join(serverId, options.channel);
  const live: ConnectionPicture = { connectedServers: 1, joinedChannels: 1, channelUsers: options.expectedUsers };
  await eventually(
    async () => JSON.stringify(await connectionPicture(query, [serverId])) === JSON.stringify(live),
    10_000,
  );
  return serverId;
}
