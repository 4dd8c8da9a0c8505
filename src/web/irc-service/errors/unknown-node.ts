/** Error: no IRC service node of that name is configured. */

/** A request named a node that `IRC_SERVICE_URLS` does not list (`404`). */
export class UnknownNode extends Error {
  override name = 'UnknownNode';
}
