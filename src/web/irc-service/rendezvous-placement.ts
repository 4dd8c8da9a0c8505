/** Rendezvous (highest random weight) hashing: which IRC service node a server is placed on. */

/**
 * The node with the highest weight for this server among `nodes`, or undefined when there is none.
 *
 * Each (node, server) pair gets a pseudo-random weight that depends on nothing else, so the choice for a
 * server changes only when its winning node leaves (its servers spread over the others) or a node joins and
 * outweighs the winner (about 1/N of the servers): no table to share between web instances, and two
 * instances that see the same nodes always agree.
 */
export function placeOnNode(serverId: number, nodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const node of nodes) {
    const weight = rendezvousWeight(node, serverId);
    // ties (one in 2^32) go to the smaller name, so the choice never depends on the list's order
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && node < best)) {
      best = node;
      bestWeight = weight;
    }
  }
  return best;
}

/** FNV-1a over the node's name and the server id, then murmur3's finalizer so that close ids spread apart. */
export function rendezvousWeight(node: string, serverId: number): number {
  let hash = 0x811c9dc5;
  const key = `${node}\u0000${serverId}`;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
