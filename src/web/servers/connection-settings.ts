import type { EntityManager } from '../../db/orm.ts';
import { runSql } from '../../db/sql.ts';
import type { ConnectionSettings } from '../irc-service/internal-api-client.ts';
import type { ServerView } from './server-views.ts';

/** The connection columns of a server, as the API shows them, plus the password the API never shows. */
type SettingsRow = Pick<ServerView, 'host' | 'port' | 'tls' | 'nickname' | 'username' | 'realname'> & {
  password: string | null;
};

export interface SettingsOptions {
  /**
   * Locks the server's row until the transaction of `em` ends: whoever asks the IRC service to connect or
   * disconnect a server holds it, so an operator's disconnect and an automatic reconnect cannot interleave.
   */
  lockRow?: boolean;
  /** Only when the operator wants the server connected (`autoconnect`). */
  onlyWanted?: boolean;
}

/** What the IRC service needs to connect a server (its settings and channels), or undefined when there is none. */
export async function connectionSettings(
  em: EntityManager,
  serverId: number,
  { lockRow = false, onlyWanted = false }: SettingsOptions = {},
): Promise<ConnectionSettings | undefined> {
  const [server] = await runSql<SettingsRow>(
    em,
    `select host, port, tls, nickname, username, realname, password from servers
     where id = ?${onlyWanted ? ' and autoconnect' : ''}${lockRow ? ' for update' : ''}`,
    [serverId],
  );
  if (!server) return undefined;
  const channels = await runSql<{ name: string }>(em, 'select name from channels where server_id = ? order by name', [
    serverId,
  ]);
  return {
    host: server.host,
    port: server.port,
    tls: server.tls,
    nickname: server.nickname,
    ...(server.username ? { username: server.username } : {}),
    ...(server.realname ? { realname: server.realname } : {}),
    ...(server.password ? { password: server.password } : {}),
    channels: channels.map((channel) => channel.name),
  };
}
