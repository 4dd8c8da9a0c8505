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

/** The failure reason when a socket error is a refused certificate, else undefined. */
export function certificateFailure(error: Error | false | undefined): string | undefined {
  if (!error) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && CERTIFICATE_ERROR_CODES.has(code) ? error.message : undefined;
}

/** The failure reason when the socket's peer certificate is not the pinned one (lower-case hex), else undefined. */
export function fingerprintMismatch(socket: Socket | undefined, pinned: string): string | undefined {
  const certificate = socket instanceof TLSSocket ? socket.getPeerCertificate() : undefined;
  const actual = certificate?.fingerprint256?.replaceAll(':', '').toLowerCase();
  if (actual === pinned) return undefined;
  return `certificate fingerprint mismatch: the server's is ${actual ?? 'missing'}`;
}
