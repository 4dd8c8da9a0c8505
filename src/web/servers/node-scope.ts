/**
 * Which servers one IRC service node's check speaks for: in a cluster a node's answer is authoritative only for
 * the servers placed on it (`servers.irc_node`), so each check reads and writes only those, plus the servers no
 * node holds (unplaced, or placed on a node no longer configured) that any node's check may restore.
 */
import type { SqlBinding } from '../../db/sql.ts';

export interface NodeScope {
  /** The checked node's name; null for the lone node of `IRC_SERVICE_URL` that never told it (it speaks for every server). */
  node: string | null;
  /** Every configured node's name, or null while a lone node has not told its name. */
  configured: readonly string[] | null;
}

/** A SQL condition and its bindings, to put in a `where`. */
export interface SqlCondition {
  sql: string;
  bindings: SqlBinding[];
}

/**
 * The servers a node's check reconciles: the ones placed on it, and the ones no node holds (placed nowhere, or
 * on a node that is no longer configured) while they are not marked connected. An unplaced server marked
 * connected is live on a node that has not adopted it yet: that node's check speaks for it.
 */
export function reconciledByNode(scope: NodeScope | undefined, alias = ''): SqlCondition {
  if (!scope || scope.node === null) return { sql: 'true', bindings: [] };
  const column = `${alias}irc_node`;
  const unheld =
    scope.configured === null ? `${column} is null` : `(${column} is null or not (${column} = any(?::text[])))`;
  return {
    sql: `(${column} = ? or (${unheld} and ${alias}connected_at is null))`,
    bindings: [scope.node, ...(scope.configured === null ? [] : [[...scope.configured]])],
  };
}

/** The servers a node's check lists as kept: placed on it or placed nowhere. */
export function keptByNode(scope: NodeScope | undefined): SqlCondition {
  if (!scope || scope.node === null) return { sql: 'true', bindings: [] };
  return { sql: '(irc_node is null or irc_node = ?)', bindings: [scope.node] };
}
