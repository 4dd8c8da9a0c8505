/** A server row turned into the connection request the IRC service takes. */
import type { EntityManager } from '../../db/orm.ts';
import { runSql } from '../../db/sql.ts';
import type { ConnectionRequest } from '../../shared/irc-service-contract.ts';
import type { ServerView } from './server-views.ts';

/** The connection columns of a server, as the API shows them, plus the secrets the API never shows. */
export type SettingsRow = Pick<
  ServerView,
  'host' | 'port' | 'tls' | 'nickname' | 'username' | 'realname' | 'tlsVerify' | 'tlsFingerprint' | 'saslRequired'
> & {
  password: string | null;
  clientCertificate: string | null;
  clientKey: string | null;
  saslMechanism: string | null;
  saslAccount: string | null;
  saslPassword: string | null;
};

/** The columns of a `SettingsRow`. */
const SETTINGS_COLUMNS = `host, port, tls, nickname, username, realname, password, tls_verify as "tlsVerify",
  tls_fingerprint as "tlsFingerprint", client_certificate as "clientCertificate", client_key as "clientKey",
  sasl_mechanism as "saslMechanism", sasl_account as "saslAccount", sasl_password as "saslPassword",
  sasl_required as "saslRequired"`;

export interface SettingsOptions {
  /** Only when the operator wants the server connected (`autoconnect`). */
  onlyWanted?: boolean;
}

/**
 * What the IRC service needs to connect a server (its settings and wanted channels), or undefined when there is
 * none. Plain selects, no lock: it is read fresh right before the IRC service is asked, outside any transaction.
 */
export async function connectionSettings(
  em: EntityManager,
  serverId: number,
  { onlyWanted = false }: SettingsOptions = {},
): Promise<ConnectionRequest | undefined> {
  const [server] = await runSql<SettingsRow>(
    em,
    `select ${SETTINGS_COLUMNS}
     from servers
     where id = ?${onlyWanted ? ' and autoconnect' : ''}`,
    [serverId],
  );
  if (!server) return undefined;
  const channels = await runSql<{ name: string }>(
    em,
    'select name from channels where server_id = ? and wanted order by name',
    [serverId],
  );
  return connectionRequest(
    server,
    channels.map((channel) => channel.name),
  );
}

/** The `PUT /internal/irc/connections/:serverId` body of a server's row and its wanted channels. */
export function connectionRequest(server: SettingsRow, channels: string[]): ConnectionRequest {
  return {
    host: server.host,
    port: server.port,
    tls: server.tls,
    nickname: server.nickname,
    ...(server.username ? { username: server.username } : {}),
    ...(server.realname ? { realname: server.realname } : {}),
    ...(server.password ? { password: server.password } : {}),
    // the defaults (verify, SASL required) are left out, as the contract fills them in
    ...(server.tlsVerify === false ? { tlsVerify: false } : {}),
    ...(server.tlsFingerprint ? { tlsFingerprint: server.tlsFingerprint } : {}),
    ...(server.clientCertificate && server.clientKey
      ? { clientCertificate: server.clientCertificate, clientKey: server.clientKey }
      : {}),
    ...saslSettings(server),
    ...(server.saslRequired === false ? { saslRequired: false } : {}),
    channels,
  };
}

/** The `sasl` of a connection request from a server's columns, when it has one. */
function saslSettings(server: SettingsRow): Pick<ConnectionRequest, 'sasl'> {
  if (server.saslMechanism === 'EXTERNAL') return { sasl: { mechanism: 'EXTERNAL' } };
  if (server.saslMechanism === 'PLAIN' && server.saslAccount && server.saslPassword) {
    return { sasl: { mechanism: 'PLAIN', account: server.saslAccount, password: server.saslPassword } };
  }
  return {};
}

/** A server's wish as a pass reads it: wanted or not, where it is placed, and what its connect would ask. */
export interface ServerWish {
  autoconnect: boolean;
  ircNode: string | null;
  /** `connected_at` is set: it may be live where it is placed. */
  connected: boolean;
  /** `pending_since` is set: a wish not passed on yet is recorded. */
  pending: boolean;
  /** Its settings and wanted channels; only for a wanted (autoconnect) server. */
  request: ConnectionRequest | undefined;
}

/**
 * The wishes of servers (absent: deleted), each with its settings and wanted channels when it is wanted, in one
 * select whatever the count: a failover hands a node's servers over in batches. Plain select, no lock.
 */
export async function serverWishes(em: EntityManager, serverIds: readonly number[]): Promise<Map<number, ServerWish>> {
  const rows = await runSql<
    SettingsRow & {
      id: number;
      autoconnect: boolean;
      ircNode: string | null;
      connected: boolean;
      pending: boolean;
      channels: string[];
    }
  >(
    em,
    `select id, autoconnect, irc_node as "ircNode", connected_at is not null as connected,
            pending_since is not null as pending, ${SETTINGS_COLUMNS},
            case when autoconnect then coalesce(
              (select json_agg(c.name order by c.name) from channels c where c.server_id = s.id and c.wanted), '[]'
            ) end as channels
     from servers s where id = any(?::int[])`,
    [[...serverIds]],
  );
  return new Map(
    rows.map((row) => [
      row.id,
      {
        autoconnect: row.autoconnect,
        ircNode: row.ircNode,
        connected: row.connected,
        pending: row.pending,
        request: row.autoconnect ? connectionRequest(row, row.channels) : undefined,
      },
    ]),
  );
}
