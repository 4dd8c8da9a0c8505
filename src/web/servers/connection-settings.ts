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

/** A server's wish as one read: whether it is wanted, where it is placed, and what connecting it takes. */
export interface ServerWish {
  autoconnect: boolean;
  ircNode: string | null;
  /** A wish of it could not be passed on (`pending_since` is set). */
  pending: boolean;
  request: ConnectionRequest;
}

/**
 * A server's wish and settings in one round trip (a failover hands hundreds of servers over at once), or
 * undefined when it is gone. A plain select, no lock.
 */
export async function serverWish(em: EntityManager, serverId: number): Promise<ServerWish | undefined> {
  const [server] = await runSql<
    SettingsRow & { channels: string[]; autoconnect: boolean; ircNode: string | null; pending: boolean }
  >(
    em,
    `select host, port, tls, nickname, username, realname, password, tls_verify as "tlsVerify",
            tls_fingerprint as "tlsFingerprint", client_certificate as "clientCertificate", client_key as "clientKey",
            sasl_mechanism as "saslMechanism", sasl_account as "saslAccount", sasl_password as "saslPassword",
            sasl_required as "saslRequired", autoconnect, irc_node as "ircNode", pending_since is not null as pending,
            array(select c.name from channels c where c.server_id = servers.id and c.wanted order by c.name) as channels
     from servers where id = ?`,
    [serverId],
  );
  if (!server) return undefined;
  const { autoconnect, ircNode, pending, channels, ...settings } = server;
  return { autoconnect, ircNode, pending, request: connectionRequest(settings, channels) };
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
