/**
 * @module
 * The base of every error that stops a process at start with a message that is already the one line an
 * operator needs (bad configuration, a database that cannot start, a side that exited during start):
 * `runMain` prints such an error's message alone, without a stack.
 */

/** A start failure an operator can act on from its message; `cause` keeps what went wrong underneath. */
export class StartError extends Error {
  override name = 'StartError';
}
