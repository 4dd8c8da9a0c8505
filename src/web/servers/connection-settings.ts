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
    `select host, port, tls, nickname, username, realname, password, tls_verify as "tlsVerify",
            tls_fingerprint as "tlsFingerprint", client_certificate as "clientCertificate", client_key as "clientKey",
            sasl_mechanism as "saslMechanism", sasl_account as "saslAccount", sasl_password as "saslPassword",
            sasl_required as "saslRequired"
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
