/**
 * The disconnect transition and its reverse, as set-based SQL in one transaction.
 *
 * Each call issues the same few statements for 1 server or 100,000 (ids travel as one array parameter,
 * `= any(?)`; the disconnect transition is a single statement), never a loop over rows: the transition has to stay near raw-SQL speed at a million
 * channel users. Only rows that actually change are returned, so the caller broadcasts exactly those.
 */
import type { EntityManager } from '../../db/orm.ts';
import { runSql, type SqlBinding } from '../../db/sql.ts';

/** A server whose `connected_at` this transition changed, with its new value. */
export interface ServerStatusChange {
  serverId: number;
  connectedAt: Date | null;
  /** The IRC service node it is placed on, when it is placed (`servers.irc_node`). */
  node?: string;
}

/** Rows with their placement, ascending by id, as changes; `node` only for a placed server. */
function changesOf(rows: ReadonlyArray<{ id: number; irc_node: string | null }>, connectedAt: Date | null) {
  const seen = new Map<number, string | null>();
  for (const row of rows) seen.set(row.id, row.irc_node);
  return [...seen.keys()].sort(ascending).map((serverId): ServerStatusChange => {
    const node = seen.get(serverId);
    return node ? { serverId, connectedAt, node } : { serverId, connectedAt };
  });
}

/** Which servers get the disconnect transition. */
export type DisconnectSelection =
  /** These servers (e.g. a `disconnected` event); their channels are reset even if already marked disconnected. */
  | { kind: 'ids'; ids: readonly number[] }
  /** Every server marked connected: the IRC service is unreachable. */
  | { kind: 'all-connected' }
  /**
   * Servers marked connected before `connectedBefore` that are not in `liveIds`: a server that connected
   * after the check started may be missing from an answer computed before, so it is kept.
   */
  | { kind: 'stale'; connectedBefore: Date; liveIds: readonly number[] }
  /** One check of every node of a cluster: each node's answer speaks only for the servers placed on it. */
  | ({ kind: 'cluster' } & ClusterObservation);

/** What the nodes of a cluster said in one check. */
export interface ClusterObservation {
  /** Servers marked connected before this moment and missing from their node's answer are stale. */
  connectedBefore: Date;
  /** Each answering node's live connections; `node` is null for a lone node that has not told its name. */
  answered: ReadonlyArray<{ node: string | null; liveIds: readonly number[] }>;
  /** Nodes where nothing listens (or silent past the threshold): every server placed on them is disconnected. */
  unavailable: readonly string[];
  /**
   * Every configured node's name, when all of them are known: a server placed on a node that is no longer
   * configured has no connection anyone keeps. Null while a lone node has not told its name.
   */
  configured: readonly string[] | null;
  /**
   * Every node answered or is unavailable (none timed out): only then can an unplaced server marked connected
   * be said to be live nowhere.
   */
  everyNodeDefinitive: boolean;
}

export interface ConnectionReconciliation {
  disconnect?: DisconnectSelection;
  /** Servers that are live but marked disconnected (reverse drift) get `connected_at = at`. */
  markConnected?: { ids: readonly number[]; at: Date };
  /**
   * In a cluster, each node's live servers: unplaced ones are placed where they live (adopted), and a server
   * is marked connected only by the node it is placed on.
   */
  markConnectedOnNodes?: { live: ReadonlyArray<{ node: string | null; liveIds: readonly number[] }>; at: Date };
}

export interface ReconciliationResult {
  disconnected: ServerStatusChange[];
  markedConnected: ServerStatusChange[];
  /** Servers marked connected before and after, untouched (ascending). */
  kept: number[];
}

/** The disconnect transition alone: one atomic statement (in the transaction of `em` when it has one). */
export async function disconnectServers(
  em: EntityManager,
  selection: DisconnectSelection,
): Promise<ServerStatusChange[]> {
  return disconnectWithin(em, selection);
}

/** The disconnect transition, the reverse drift and the list of kept servers, in one transaction. */
export async function reconcileConnections(
  em: EntityManager,
  reconciliation: ConnectionReconciliation,
): Promise<ReconciliationResult> {
  const { disconnect, markConnected, markConnectedOnNodes } = reconciliation;
  const liveOnNodes = markConnectedOnNodes?.live.some((node) => node.liveIds.length > 0) ?? false;
  if (!disconnect && !markConnected?.ids.length && !liveOnNodes) {
    // nothing to write: no transaction, one read
    return { disconnected: [], markedConnected: [], kept: await listConnectedExcept(em, []) };
  }
  return em.transactional(async (tx) => {
    const disconnected = disconnect ? await disconnectWithin(tx, disconnect) : [];
    const markedConnected = markConnected ? await markConnectedWithin(tx, markConnected.ids, markConnected.at) : [];
    if (markConnectedOnNodes && liveOnNodes) {
      markedConnected.push(
        ...(await markConnectedOnNodesWithin(tx, markConnectedOnNodes.live, markConnectedOnNodes.at)),
      );
      markedConnected.sort((a, b) => a.serverId - b.serverId);
    }
    const kept = await listConnectedExcept(
      tx,
      markedConnected.map((change) => change.serverId),
    );
    return { disconnected, markedConnected, kept };
  });
}

/**
 * A PostgreSQL array literal (`{1,2,3}`) bound as one text parameter and cast with `::int[]`. node-postgres
 * would build the same literal from a JS array, but escapes every element on the way; with 10,000 live ids
 * that costs about a millisecond per statement on the hot path.
 */
function intArray(ids: readonly number[]): string {
  return `{${ids.join(',')}}`;
}

const CLEAR_CONNECTED_AT = 'update servers set connected_at = null, updated_at = now()';

/** Which servers lose `connected_at`, and whose channels are reset (for `ids`: all of them, changed or not). */
function selectionSql(selection: DisconnectSelection): {
  where: string;
  bindings: SqlBinding[];
  reset: { ids: string; bindings: SqlBinding[] };
} {
  // the changed ids as an array, not `in (select ...)`: with an array the planner keeps the index plans
  // for channels and channel_users; a semi-join on the CTE hashed all million channel users
  const changed = { ids: 'array(select id from changed)', bindings: [] };
  switch (selection.kind) {
    case 'ids': {
      const ids = intArray(selection.ids);
      return {
        where: 'id = any(?::int[]) and connected_at is not null',
        bindings: [ids],
        reset: { ids: '?::int[]', bindings: [ids] },
      };
    }
    case 'all-connected':
      return { where: 'connected_at is not null', bindings: [], reset: changed };
    case 'stale':
      return {
        where: 'connected_at is not null and connected_at < ? and id <> all(?::int[])',
        bindings: [selection.connectedBefore, intArray(selection.liveIds)],
        reset: changed,
      };
    case 'cluster': {
      const pairs = livePairs(selection.answered);
      const answeredNames = selection.answered.flatMap((answer) => (answer.node === null ? [] : [answer.node]));
      const allLive = intArray(pairs.ids);
      const noneAnswered = selection.answered.length === 0;
      return {
        // placed on a node that is down or gone; placed on a node that answered without it; or unplaced and
        // live nowhere, when every node gave a definite answer. `not in` (unnamed nodes left out, so a null never
        // turns it unknown) rather than `not exists`: inside an `or` the planner cannot make an anti-join, and
        // `not exists` scanned the live list once per server (10,000 x 10,000: 0.3 to 0.4 s a steady check, P2),
        // where `not in` hashes it once.
        where: `connected_at is not null and (
            irc_node = any(?::text[])
            or (irc_node is not null and ?::bool and irc_node <> all(?::text[]))
            or (connected_at < ? and irc_node = any(?::text[]) and (irc_node, id) not in (
              select live.node, live.id from unnest(?::text[], ?::int[]) as live(node, id) where live.node is not null))
            or (irc_node is null and ?::bool and (connected_at < ? or ?::bool) and id <> all(?::int[])))`,
        bindings: [
          textArray(selection.unavailable),
          selection.configured !== null,
          textArray(selection.configured ?? []),
          selection.connectedBefore,
          textArray(answeredNames),
          textArray(pairs.nodes),
          intArray(pairs.ids),
          selection.everyNodeDefinitive,
          selection.connectedBefore,
          noneAnswered,
          allLive,
        ],
        reset: changed,
      };
    }
  }
}

/**
 * One statement: data-modifying CTEs run exactly once and together, so the transition is atomic without
 * a transaction of its own (and joins the caller's when there is one), in one round trip.
 */
async function disconnectWithin(em: EntityManager, selection: DisconnectSelection): Promise<ServerStatusChange[]> {
  const { where, bindings, reset } = selectionSql(selection);
  const rows = await runSql<{ id: number; irc_node: string | null }>(
    em,
    `with changed as (${CLEAR_CONNECTED_AT} where ${where} returning id, irc_node),
     reset_channels as (
       update channels set joined = false where server_id = any(${reset.ids}) and joined
     ),
     removed_users as (
       delete from channel_users using channels
       where channel_users.channel_id = channels.id and channels.server_id = any(${reset.ids})
     )
     select id, irc_node from changed`,
    [...bindings, ...reset.bindings, ...reset.bindings],
  );
  return changesOf(rows, null);
}

async function markConnectedWithin(tx: EntityManager, ids: readonly number[], at: Date): Promise<ServerStatusChange[]> {
  if (ids.length === 0) return [];
  const rows = await runSql<{ id: number; irc_node: string | null }>(
    tx,
    `update servers set connected_at = ?, updated_at = now()
     where id = any(?::int[]) and connected_at is null returning id, irc_node`,
    [at, intArray(ids)],
  );
  return changesOf(rows, at);
}

/**
 * A cluster's reverse drift: a live server not placed anywhere is placed on the node that holds it (adopted),
 * and a live server marked disconnected is marked connected when it lives on its own node. Two statements
 * whatever the count: a server's row is updated at most once per statement.
 */
async function markConnectedOnNodesWithin(
  tx: EntityManager,
  live: ReadonlyArray<{ node: string | null; liveIds: readonly number[] }>,
  at: Date,
): Promise<ServerStatusChange[]> {
  const pairs = livePairs(live);
  const bindings = [textArray(pairs.nodes), intArray(pairs.ids)];
  // a lone node not named yet places nothing: the statement (a join over every live id) is skipped
  if (pairs.nodes.some((node) => node !== null)) {
    await runSql(
      tx,
      `update servers set irc_node = live.node from unnest(?::text[], ?::int[]) as live(node, id)
       where servers.id = live.id and servers.irc_node is null and live.node is not null`,
      bindings,
    );
  }
  const rows = await runSql<{ id: number; irc_node: string | null }>(
    tx,
    `update servers set connected_at = ?, updated_at = now() from unnest(?::text[], ?::int[]) as live(node, id)
     where servers.id = live.id and servers.connected_at is null and servers.irc_node is not distinct from live.node
     returning servers.id, servers.irc_node`,
    [at, ...bindings],
  );
  return changesOf(rows, at);
}

/** Node and server id side by side, for `unnest(?::text[], ?::int[])`. */
function livePairs(live: ReadonlyArray<{ node: string | null; liveIds: readonly number[] }>): {
  nodes: (string | null)[];
  ids: number[];
} {
  const nodes: (string | null)[] = [];
  const ids: number[] = [];
  for (const answer of live) {
    for (const id of answer.liveIds) {
      nodes.push(answer.node);
      ids.push(id);
    }
  }
  return { nodes, ids };
}

/**
 * A PostgreSQL text array literal. Node names are letters, digits, `.`, `_` and `-` (`ircNodeIdSchema`), so
 * quoting each is all it takes; a null is an unnamed node.
 */
function textArray(values: ReadonlyArray<string | null>): string {
  return `{${values.map((value) => (value === null ? 'NULL' : `"${value}"`)).join(',')}}`;
}

async function listConnectedExcept(em: EntityManager, excluded: number[]): Promise<number[]> {
  const rows = await runSql<{ id: number }>(
    em,
    'select id from servers where connected_at is not null and id <> all(?::int[]) order by id',
    [intArray(excluded)],
  );
  return rows.map((row) => row.id);
}

function ascending(a: number, b: number): number {
  return a - b;
}
