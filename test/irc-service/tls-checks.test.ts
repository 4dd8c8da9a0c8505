/** Which socket errors are a refused certificate (failed, not retried) and which an ordinary lost socket. */
import { describe, expect, it } from 'vitest';
import { certificateFailure } from '../../src/irc-service/tls-checks.ts';

const socketError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('certificateFailure', () => {
  it.each([
    ['CERT_HAS_EXPIRED', 'certificate has expired'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
  ])('a %s is the reason as Node words it', (code, message) => {
    expect(certificateFailure(socketError(code, message))).toBe(message);
  });

  it("a name mismatch names the host asked for and the certificate's names (Node's list can be empty)", () => {
    const error = Object.assign(
      socketError(
        'ERR_TLS_CERT_ALTNAME_INVALID',
        "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
      ),
      { host: '127.0.0.1', cert: { subject: { CN: 'irc.example' }, subjectaltname: 'DNS:irc.example' } },
    );

    expect(certificateFailure(error)).toBe(
      "certificate name mismatch: 127.0.0.1 is not among the certificate's names (DNS:irc.example)",
    );
  });

  it('a name mismatch on a certificate without altnames names its CN', () => {
    const error = Object.assign(socketError('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match'), {
      host: 'irc.example',
      cert: { subject: { CN: 'other.example' } },
    });

    expect(certificateFailure(error)).toBe(
      "certificate name mismatch: irc.example is not among the certificate's names (CN=other.example)",
    );
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
