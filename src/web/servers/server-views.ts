/** Servers as the API and the dashboard show them, read in a fixed number of statements. */
import type { EntityManager } from '../../db/orm.ts';
import { runSql, toIsoTimestamp } from '../../db/sql.ts';
import type { ConnectionView, FailureView, PendingView } from '../../shared/web-events.ts';
import type { ConnectionStates } from './connection-states.ts';

export type { ConnectionView, FailureView, PendingView };

/** A server as the API and the dashboard show it; the IRC password itself never leaves the database. */
export interface ServerView {
  id: number;
  name: string;
  host: string;
  port: number;
  tls: boolean;
  nickname: string;
  username: string | null;
  realname: string | null;
  hasPassword: boolean;
  /** Verify the server's certificate (trust store, name); false accepts a self-signed one. */
  tlsVerify: boolean;
  /** SHA-256 of the one certificate accepted (lower-case hex); null: none pinned. */
  tlsFingerprint: string | null;
  /** A client certificate is set (CertFP, SASL EXTERNAL); the certificate and its key are never shown. */
  hasClientCertificate: boolean;
  hasClientKey: boolean;
  /** The SASL mechanism and PLAIN's account; the SASL password is never shown. */
  sasl: { mechanism: 'PLAIN'; account: string } | { mechanism: 'EXTERNAL' } | null;
  hasSaslPassword: boolean;
  /** A SASL failure fails the connection; false continues unauthenticated. */
  saslRequired: boolean;
  /** Wanted: the operator wants it connected. */
  autoconnect: boolean;
  /** Observed: the IRC service reports it registered. */
  connected: boolean;
  connectedAt: string | null;
  /** While a wish of this server could not be passed on to the IRC service: since when, and why; else null. */
  pending: PendingView | null;
  /** While the connection is `failed` (banned, password refused, no acceptable nickname): why and when; else null. */
  failure: FailureView | null;
  /** The connection as the IRC service last reported it (state, since, nickname, attempt, next attempt, last error); null when it holds none. */
  connection: ConnectionView | null;
  /** The IRC service node it is placed on (`servers.irc_node`); null when placed nowhere. */
  node: string | null;
  /** While a drain moves it (make-before-break): the node its new connection is made on (`servers.moving_to`); else null. */
  movingTo: string | null;
  createdAt: string;
  updatedAt: string;
  channels: ChannelView[];
}

export interface ChannelView {
  id: number;
  name: string;
  /** Wanted: the operator wants it joined (false while its part is on its way). */
  wanted: boolean;
  /** Observed: the IRC service reported it joined. */
  joined: boolean;
  userCount: number;
}

/** A server as read, columns named as in the view; timestamps come back as text (see toIsoTimestamp). */
type ServerRow = Omit<ServerView, 'connected' | 'channels' | 'pending' | 'failure' | 'connection' | 'sasl'> & {
  saslMechanism: string | null;
  saslAccount: string | null;
  pendingSince: string | null;
  pendingReason: string | null;
  failureReason: string | null;
  failedAt: string | null;
};

interface ChannelRow {
  id: number;
  server_id: number;
  name: string;
  wanted: boolean;
  joined: boolean;
  user_count: number;
}

/**
 * Servers with their channels and user counts in two statements, whatever their number (no N+1), and each
 * one's connection from the states kept in memory (none without them).
 */
export async function loadServerViews(
  em: EntityManager,
  ids?: readonly number[],
  connections?: ConnectionStates,
): Promise<ServerView[]> {
  const filter = ids ? 'where id = any(?::int[])' : '';
  const servers = await runSql<ServerRow>(
    em,
    `select id, name, host, port, tls, nickname, username, realname, password is not null as "hasPassword",
            tls_verify as "tlsVerify", tls_fingerprint as "tlsFingerprint",
            client_certificate is not null as "hasClientCertificate", client_key is not null as "hasClientKey",
            sasl_mechanism as "saslMechanism", sasl_account as "saslAccount",
            sasl_password is not null as "hasSaslPassword", sasl_required as "saslRequired",
            autoconnect, connected_at as "connectedAt", pending_since as "pendingSince",
            pending_reason as "pendingReason", failure_reason as "failureReason", failed_at as "failedAt", irc_node as "node",
            moving_to as "movingTo", created_at as "createdAt", updated_at as "updatedAt"
     from servers ${filter} order by id`,
    ids ? [[...ids]] : [],
  );
  if (servers.length === 0) return [];
  const channels = await queryChannels(
    em,
    'server',
    servers.map((server) => server.id),
  );
  const byServer = new Map<number, ChannelView[]>();
  for (const { serverId, ...channel } of channels) {
    const list = byServer.get(serverId) ?? [];
    list.push(channel);
    byServer.set(serverId, list);
  }
  return servers.map(
    ({ pendingSince, pendingReason, failureReason, failedAt, saslMechanism, saslAccount, ...row }) => ({
      ...row,
      sasl: saslView(saslMechanism, saslAccount),
      connected: row.connectedAt !== null,
      connectedAt: toIsoTimestamp(row.connectedAt),
      pending: pendingView(pendingSince, pendingReason),
      failure: failureView(failedAt, failureReason),
      connection: connections?.get(row.id) ?? null,
      createdAt: toIsoTimestamp(row.createdAt),
      updatedAt: toIsoTimestamp(row.updatedAt),
      channels: byServer.get(row.id) ?? [],
    }),
  );
}

export async function loadServerView(
  em: EntityManager,
  id: number,
  connections?: ConnectionStates,
): Promise<ServerView | undefined> {
  const [view] = await loadServerViews(em, [id], connections);
  return view;
}

export type ServerChannelView = ChannelView & { serverId: number };

/** The `channel` browser event of a channel view. */
export function channelEvent({ id, serverId, name, wanted, joined, userCount }: ServerChannelView) {
  return { serverId, channelId: id, name, joined, userCount, wanted };
}

/** The `sasl` of a server's view from its columns (never its password). */
function saslView(mechanism: string | null, account: string | null): ServerView['sasl'] {
  if (mechanism === 'PLAIN') return { mechanism, account: account ?? '' };
  return mechanism === 'EXTERNAL' ? { mechanism } : null;
}

/** The `pending` of a server's view from its two columns. */
export function pendingView(since: Date | string | null, reason: string | null): PendingView | null {
  return since === null ? null : { since: toIsoTimestamp(since), reason: reason ?? '' };
}

/** The `failure` of a server's view from its two columns. */
export function failureView(at: Date | string | null, message: string | null): FailureView | null {
  return at === null ? null : { message: message ?? '', at: toIsoTimestamp(at) };
}

/** Channels with their user counts, by channel ids or by server ids, in one statement. */
export async function queryChannels(
  em: EntityManager,
  by: 'channel' | 'server',
  ids: readonly number[],
): Promise<ServerChannelView[]> {
  if (ids.length === 0) return [];
  const rows = await runSql<ChannelRow>(
    em,
    `select c.id, c.server_id, c.name, c.wanted, c.joined,
            (select count(*) from channel_users u where u.channel_id = c.id)::int as user_count
     from channels c where ${by === 'channel' ? 'c.id' : 'c.server_id'} = any(?::int[]) order by c.name, c.id`,
    [[...new Set(ids)]],
  );
  return rows.map((row) => ({
    id: row.id,
    serverId: row.server_id,
    name: row.name,
    wanted: row.wanted,
    joined: row.joined,
    userCount: row.user_count,
  }));
}
