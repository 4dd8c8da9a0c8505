/**
 * Where a wanted server's connection goes (`servers.irc_node`): the cluster's rendezvous choice over the nodes
 * that are up, with the draining ones read from the database (every web instance shares the drain), written
 * in the caller's transaction when it has one (a route's wish, so the wish and its placement commit together).
 */
import type { EntityManager } from '../../db/orm.ts';
import { runSql } from '../../db/sql.ts';
import type { IrcCluster, IrcNode } from '../irc-service/irc-cluster.ts';

/** The names of the nodes an operator drained (`irc_nodes.draining_since`). */
export async function drainingNodes(em: EntityManager): Promise<Set<string>> {
  const rows = await runSql<{ name: string }>(em, 'select name from irc_nodes where draining_since is not null');
  return new Set(rows.map((row) => row.name));
}

export interface PlacedServer {
  serverId: number;
  /** Where it is placed now (`irc_node`). */
  current: string | null;
  /** It may be live on `current` (`connected_at` set): it keeps a draining node, which moves it without a cut. */
  connected: boolean;
}

export interface Placement<Client> {
  /** Where its connection goes; none when every node is down or draining. */
  node: IrcNode<Client> | undefined;
  /** Set when the row moved to `node`: the server's `connected_at` then. */
  moved: { connectedAt: string | null } | undefined;
}

/**
 * Decides a wanted server's node and writes it when it changes (only while the server is still wanted, and never
 * onto a node the database says is draining). Answers the node, and the server's `connected_at` when the row
 * moved to it; no node when every node is down or draining. `fresh` reads the draining nodes first (a route's
 * transaction); without it the cluster's last reading decides, and the write itself refuses a node that began
 * draining since (then the reading is renewed and the choice made again): one statement on the reconciler's
 * hot path (a failover places every server of the dead node).
 */
export async function placeServer<Client>(
  em: EntityManager,
  cluster: IrcCluster<Client>,
  server: PlacedServer,
  options: { fresh?: boolean } = {},
): Promise<Placement<Client>> {
  const placements = await placeServers(em, cluster, [server], options);
  return placements.get(server.serverId)!;
}

/**
 * `placeServer` for many servers at once, by the same rules: the moves are written in one statement (a failover
 * hands a host's servers over in batches), the ones refused (no longer wanted, or onto a node that began draining)
 * chosen again once after the draining nodes are read anew.
 */
export async function placeServers<Client>(
  em: EntityManager,
  cluster: IrcCluster<Client>,
  servers: readonly PlacedServer[],
  { fresh = true }: { fresh?: boolean } = {},
): Promise<Map<number, Placement<Client>>> {
  if (fresh) cluster.markDraining(await drainingNodes(em));
  const placements = new Map<number, Placement<Client>>();
  let undecided = servers;
  for (let attempt = 0; undecided.length > 0; attempt += 1) {
    const moves: Array<{ serverId: number; node: IrcNode<Client> & { name: string } }> = [];
    for (const { serverId, current, connected } of undecided) {
      const node = cluster.placementFor(serverId, current, { keepDraining: connected });
      if (!node || node.name === null || node.name === current) placements.set(serverId, { node, moved: undefined });
      else moves.push({ serverId, node: node as IrcNode<Client> & { name: string } });
    }
    if (moves.length === 0) break;
    const rows = await runSql<{ id: number; connected_at: string | null }>(
      em,
      `update servers s set irc_node = m.node from unnest(?::int[], ?::text[]) as m(id, node)
       where s.id = m.id and s.autoconnect
         and not exists (select 1 from irc_nodes n where n.name = m.node and n.draining_since is not null)
       returning s.id, s.connected_at`,
      [moves.map((move) => move.serverId), moves.map((move) => move.node.name)],
    );
    const written = new Map(rows.map((row) => [row.id, row.connected_at]));
    for (const { serverId, node } of moves) {
      // not wanted any more (nothing is asked of the node then), or the node began draining: read again, once
      if (written.has(serverId)) placements.set(serverId, { node, moved: { connectedAt: written.get(serverId)! } });
      else if (attempt > 0) placements.set(serverId, { node, moved: undefined });
    }
    if (attempt > 0) break;
    const refused = new Set(moves.filter((move) => !written.has(move.serverId)).map((move) => move.serverId));
    undecided = undecided.filter((server) => refused.has(server.serverId));
    if (undecided.length > 0) cluster.markDraining(await drainingNodes(em));
  }
  return placements;
}
