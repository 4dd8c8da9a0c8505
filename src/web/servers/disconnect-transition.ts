/**
 * The disconnect transition and its reverse, as set-based SQL: one statement each (data-modifying CTEs, atomic on their own).
 *
 * Each call issues the same few statements for 1 server or 100,000 (ids travel as one array parameter,
 * `= any(?)`; the disconnect transition is a single statement), never a loop over rows: the transition has to stay near raw-SQL speed at a million
 * channel users. Only rows that actually change are returned, so the caller broadcasts exactly those.
 */
import type { EntityManager } from '../../db/orm.ts';
import { intArray, runSql, type SqlBinding } from '../../db/sql.ts';
import { ascending } from '../../shared/ascending.ts';
import { keptByNode, type NodeScope } from './node-scope.ts';

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
  /** One node's check in a cluster: its answer speaks only for the servers placed on it. */
  | ({ kind: 'node' } & NodeObservation);

/** What one node of a cluster said in one check. */
export interface NodeObservation {
  /** Its name; null for a lone node that has not told it (then only the unplaced servers are judged). */
  node: string | null;
  /** Servers placed on it, marked connected before this moment and missing from `liveIds`, are stale. */
  connectedBefore: Date;
  /** Its live connections; null when nothing listens there (or it stayed silent past the threshold): every server placed on it is disconnected. */
  liveIds: readonly number[] | null;
  /**
   * Every configured node's name, when all of them are known: a server placed on a node that is no longer
   * configured has no connection anyone keeps. Null while a lone node has not told its name.
   */
  configured: readonly string[] | null;
  /**
   * What every node's last definite check (answered or unavailable) says about unplaced servers marked
   * connected: those that connected before `connectedBefore` (null: no bound, every node that could hold one is
   * down) and are in no node's `liveIds` are live nowhere. Null while some node has no definite check.
   */
  unplaced: { connectedBefore: Date | null; liveIds: readonly number[] } | null;
}

export interface ReconciliationResult {
  disconnected: ServerStatusChange[];
  markedConnected: ServerStatusChange[];
  /** Servers marked connected before and after, untouched (ascending). */
  kept: number[];
}

/**
 * The disconnect transition alone: one atomic statement (in the transaction of `em` when it has one). A node's
 * check goes through `reconcileNode`, whose statement holds the `live` CTE its selection reads.
 */
export async function disconnectServers(
  em: EntityManager,
  selection: Exclude<DisconnectSelection, { kind: 'node' }>,
): Promise<ServerStatusChange[]> {
  return disconnectWithin(em, selection);
}

/**
 * One node's check in one statement (atomic on its own, so no transaction and one round trip): the disconnect
 * transition of the servers its observation judges stale, its live servers placed nowhere adopted onto it, its
 * live servers marked disconnected marked connected (reverse drift; placed here when placed nowhere; not one whose
 * row changed since the check began, such as a disconnect applied while the answer was on its way), and the
 * servers it speaks for that stay connected. The data-modifying CTEs touch disjoint rows: stale ones were
 * connected and are not live, adopted ones connected and live, marked ones disconnected and live; the kept ones
 * are read from the snapshot before the statement, where the marked ones were not connected yet.
 */
export async function reconcileNode(
  em: EntityManager,
  observation: NodeObservation,
  at: Date,
  keptScope: NodeScope,
): Promise<ReconciliationResult> {
  const { where, bindings } = selectionSql({ kind: 'node', ...observation });
  const kept = keptByNode(keptScope);
  // the kept ids come back as one text, not a row each: parsing 10,000 rows cost more than the statement itself.
  // The live ids go in once, as the `live` CTE that the node's selection reads too: the planner weighs each
  // element of every array literal it is given, and four copies of 10,000 ids took longer to plan than the
  // statement took to run (bench P2, 31-42 ms → 16-20 ms). Read as `not in (select unnest …)` (a hashed subplan)
  // and `= any((select …))` (an index scan on a parameter), never `<> all((select …))`, which compares each
  // row with every id.
  const rows = await runSql<{
    kind: 'disconnected' | 'marked' | 'kept';
    id: number | null;
    irc_node: string | null;
    ids: string | null;
  }>(
    em,
    `with live as (select ?::int[] as ids),
     changed as (${CLEAR_CONNECTED_AT} where ${where} returning id, irc_node),
     reset_channels as (
       update channels set joined = false where server_id = any(array(select id from changed)) and joined
     ),
     removed_users as (
       delete from channel_users using channels
       where channel_users.channel_id = channels.id and channels.server_id = any(array(select id from changed))
     ),
     adopted as (
       update servers set irc_node = ?::text
       where id = any((select ids from live)::int[]) and irc_node is null and connected_at is not null and ?::text is not null
         and id <> all(array(select id from changed))
     ),
     marked as (
       update servers set connected_at = ?, updated_at = now(), irc_node = coalesce(irc_node, ?::text)
       where id = any((select ids from live)::int[]) and connected_at is null
         and (irc_node is null or irc_node is not distinct from ?::text)
         and date_trunc('milliseconds', updated_at) <= ?
       returning id, irc_node
     )
     select 'disconnected' as kind, id, irc_node, null as ids from changed
     union all select 'marked', id, irc_node, null from marked
     union all select 'kept', null, null, (select string_agg(id::text, ',') from servers
       where connected_at is not null and ${kept.sql} and id <> all(array(select id from changed)))`,
    [
      intArray(observation.liveIds ?? []),
      ...bindings,
      observation.node,
      observation.node,
      at,
      observation.node,
      observation.node,
      // not a server whose row changed since the check began (a disconnect applied while the answer was on its way:
      // the answer is older than it); to the millisecond, as the check's start is
      observation.connectedBefore,
      ...kept.bindings,
    ],
  );
  const of = (kind: string) =>
    rows.flatMap((row) => (row.kind === kind && row.id !== null ? [{ ...row, id: row.id }] : []));
  const keptIds = rows.find((row) => row.kind === 'kept')?.ids;
  return {
    disconnected: changesOf(of('disconnected'), null),
    markedConnected: changesOf(of('marked'), at),
    // ascending, sorted here: `string_agg(… order by id)` sorted 10,000 rows in the statement, 3 to 4 times
    // slower than reading them unsorted (bench P2)
    kept: keptIds ? keptIds.split(',').map(Number).sort(ascending) : [],
  };
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
    case 'node': {
      const { unplaced } = selection;
      // this node's live ids are the `live` CTE of reconcileNode (its one caller); the other nodes' are bound here
      const own = new Set(selection.liveIds ?? []);
      const othersLive = (unplaced?.liveIds ?? []).filter((id) => !own.has(id));
      return {
        // placed on this node: gone with it, or connected before the check and missing from its answer; placed
        // on a node that is gone from the configuration; or unplaced and live on no node
        where: `connected_at is not null and (
            (irc_node = ?::text and (?::bool or (connected_at < ? and id not in (select unnest(ids) from live))))
            or (irc_node is not null and ?::bool and irc_node <> all(?::text[]))
            or (irc_node is null and ?::bool and (?::timestamptz is null or connected_at < ?::timestamptz)
              and id not in (select unnest(ids) from live) and id <> all(?::int[])))`,
        bindings: [
          selection.node,
          selection.liveIds === null,
          selection.connectedBefore,
          selection.configured !== null,
          textArray(selection.configured ?? []),
          unplaced !== null,
          unplaced?.connectedBefore ?? null,
          unplaced?.connectedBefore ?? null,
          intArray(othersLive),
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
async function disconnectWithin(
  em: EntityManager,
  selection: Exclude<DisconnectSelection, { kind: 'node' }>,
): Promise<ServerStatusChange[]> {
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

/**
 * A PostgreSQL text array literal. Node names are letters, digits, `.`, `_` and `-` (`ircNodeIdSchema`), so
 * quoting each is all it takes; a null is an unnamed node.
 */
function textArray(values: ReadonlyArray<string | null>): string {
  return `{${values.map((value) => (value === null ? 'NULL' : `"${value}"`)).join(',')}}`;
}

/** The servers a node's check speaks for that are marked connected (a check that changes nothing). */
export async function listConnected(em: EntityManager, scope: NodeScope): Promise<number[]> {
  const kept = keptByNode(scope);
  const rows = await runSql<{ id: number }>(
    em,
    `select id from servers where connected_at is not null and ${kept.sql} order by id`,
    kept.bindings,
  );
  return rows.map((row) => row.id);
}
