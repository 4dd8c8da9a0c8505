/** Which socket errors are a refused certificate (failed, not retried) and which an ordinary lost socket. */
import { describe, expect, it } from 'vitest';
import { certificateFailure } from '../../src/irc-service/tls-checks.ts';

const socketError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('certificateFailure', () => {
  it.each([
    ['CERT_HAS_EXPIRED', 'certificate has expired'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list: 127.0.0.1",
    ],
  ])('a %s is the reason as Node words it', (code, message) => {
    expect(certificateFailure(socketError(code, message))).toBe(message);
  });

  it.each([
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6697'],
    ['ECONNRESET', 'read ECONNRESET'],
  ])('a %s is not a certificate failure: the connection retries', (code, message) => {
    expect(certificateFailure(socketError(code, message))).toBeUndefined();
  });

  it('a close without an error is not one', () => {
    expect(certificateFailure(false)).toBeUndefined();
  });
});
