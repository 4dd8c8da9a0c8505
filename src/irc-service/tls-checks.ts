/**
 * What a TLS connection's certificate says: a verification failure is a reason retrying cannot fix (the
 * certificate will not heal within a backoff), and a pinned fingerprint is compared before any line is written.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

/** Node's codes for a certificate that failed verification (its message is the reason shown). */
const CERTIFICATE_ERROR_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What Node's checkServerIdentity error carries besides its message. */
interface NameMismatchError extends NodeJS.ErrnoException {
  host?: string;
  cert?: { subject?: { CN?: string }; subjectaltname?: string };
}

/**
 * The failure reason when a socket error is a refused certificate, else undefined: Node's own message (such as
 * `certificate has expired`), except for a name mismatch, whose message can end in an empty list (an IP address
 * checked against a certificate that names only hosts), so it says which name was asked for and which the
 * certificate has.
 */
export function certificateFailure(error: Error | false | undefined): string | undefined {
  if (!error) return undefined;
  const { code, host, cert } = error as NameMismatchError;
  if (code === undefined || !CERTIFICATE_ERROR_CODES.has(code)) return undefined;
  if (code !== 'ERR_TLS_CERT_ALTNAME_INVALID' || host === undefined) return error.message;
  const names = cert?.subjectaltname || (cert?.subject?.CN ? `CN=${cert.subject.CN}` : 'none');
  return `certificate name mismatch: ${host} is not among the certificate's names (${names})`;
}

/** The failure reason when the socket's peer certificate is not the pinned one (lower-case hex), else undefined. */
export function fingerprintMismatch(socket: Socket | undefined, pinned: string): string | undefined {
  const certificate = socket instanceof TLSSocket ? socket.getPeerCertificate() : undefined;
  const actual = certificate?.fingerprint256?.replaceAll(':', '').toLowerCase();
  if (actual === pinned) return undefined;
  return `certificate fingerprint mismatch: the server's is ${actual ?? 'missing'}`;
}
