/**
 * How the client actor words why a socket ended (`CLOSED.reason`), and how the metrics read those words back: in
 * one place, so that the wording and its reading cannot drift apart.
 */

/** The server closed the socket without an ERROR line (a restart, a crash whose kernel closed it cleanly). */
export const SERVER_CLOSED_REASON = 'connection closed by the server';

/** The server went silent for longer than the ping timeout. */
export function pingTimeoutReason(timeoutMs: number): string {
  return `Ping timeout (${timeoutMs} ms)`;
}

/** The server's ERROR line, which says why it is closing the link (a kill, a K-line, a shutdown). */
export function serverErrorReason(text: string | undefined): string {
  return `ERROR :${text ?? ''}`;
}

/** A close reason as one of the metrics' kinds; anything else is the socket's own error (refused, reset, TLS). */
export function closeKind(reason: string): 'ping_timeout' | 'server_closed' | 'socket_error' {
  if (reason.startsWith('Ping timeout (')) return 'ping_timeout';
  if (reason === SERVER_CLOSED_REASON || reason.startsWith('ERROR :')) return 'server_closed';
  return 'socket_error';
}
