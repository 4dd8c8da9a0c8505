/** Error: a drain would leave no node to place servers on. */

/** The node is the last healthy one that is not draining: its servers would have nowhere to go (`409`). */
export class LastNodeStanding extends Error {
  override name = 'LastNodeStanding';
}
