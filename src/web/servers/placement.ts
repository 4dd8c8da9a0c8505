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
  { serverId, current, connected }: PlacedServer,
  { fresh = true }: { fresh?: boolean } = {},
): Promise<{ node: IrcNode<Client> | undefined; moved: { connectedAt: string | null } | undefined }> {
  if (fresh) cluster.markDraining(await drainingNodes(em));
  for (let attempt = 0; ; attempt += 1) {
    const node = cluster.placementFor(serverId, current, { keepDraining: connected });
    if (!node || node.name === null || node.name === current) return { node, moved: undefined };
    const [row] = await runSql<{ connected_at: string | null }>(
      em,
      `update servers set irc_node = ? where id = ? and autoconnect
         and not exists (select 1 from irc_nodes where name = ? and draining_since is not null)
       returning connected_at`,
      [node.name, serverId, node.name],
    );
    if (row) return { node, moved: { connectedAt: row.connected_at } };
    // not wanted any more (nothing is asked of the node then), or the node began draining: read again, once
    if (attempt > 0) return { node, moved: undefined };
    cluster.markDraining(await drainingNodes(em));
  }
}
