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
 * Decides a wanted server's node and writes it when it changes (only while the server is still wanted).
 * Answers the node, whether the row moved to it, and the server's `connected_at` when it did; no node when
 * every node is down or draining.
 */
export async function placeServer<Client>(
  em: EntityManager,
  cluster: IrcCluster<Client>,
  { serverId, current, connected }: PlacedServer,
): Promise<{ node: IrcNode<Client> | undefined; moved: { connectedAt: string | null } | undefined }> {
  cluster.markDraining(await drainingNodes(em));
  const node = cluster.placementFor(serverId, current, { keepDraining: connected });
  if (!node || node.name === null || node.name === current) return { node, moved: undefined };
  const [row] = await runSql<{ connected_at: string | null }>(
    em,
    'update servers set irc_node = ? where id = ? and autoconnect returning connected_at',
    [node.name, serverId],
  );
  return { node, moved: row ? { connectedAt: row.connected_at } : undefined };
}
