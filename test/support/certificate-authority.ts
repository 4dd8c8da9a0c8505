/**
 * A test certificate authority made by openssl, and server certificates it signs: one valid for 127.0.0.1, one
 * expired, one for another name. A process that trusts the authority (`NODE_EXTRA_CA_CERTS` = its `certPath`) sees
 * the verification Node does against the trust store, past the self-signed check: `CERT_HAS_EXPIRED` and
 * `ERR_TLS_CERT_ALTNAME_INVALID` are only reached with a trusted issuer.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OPENSSL } from './requirements.ts';
import { makeSelfSignedCertificate } from './self-signed-certificate.ts';
import { makeTempDir } from './temp-dir.ts';

export interface IssuedCertificate {
  /** PEM. */
  cert: string;
  /** PEM, unencrypted. */
  key: string;
}

export interface IssueOptions {
  /** `subjectAltName` value, e.g. `IP:127.0.0.1` or `DNS:irc.example`. */
  altNames: string;
  /** Expired since the moment it was made (OpenSSL 3.0 has no `-not_after`: `-days -1` ends it a day before it starts). */
  expired?: boolean;
}

export interface CertificateAuthority {
  /** The authority's certificate (PEM) in a file, for `NODE_EXTRA_CA_CERTS`; it stays until `dispose`. */
  readonly certPath: string;
  /** A fresh key and a certificate for it signed by the authority. */
  issue(options: IssueOptions): Promise<IssuedCertificate>;
  dispose(): Promise<void>;
}

export async function makeCertificateAuthority(): Promise<CertificateAuthority> {
  const binary = OPENSSL;
  if (binary === undefined) throw new Error('openssl is not installed');
  const openssl = (...args: string[]) => promisify(execFile)(binary, args);
  const dir = await makeTempDir('test-ca');
  const certPath = join(dir.path, 'ca.pem');
  const keyPath = join(dir.path, 'ca-key.pem');
  // a self-signed certificate is a root authority (openssl's `req -x509` marks it CA:TRUE)
  const root = await makeSelfSignedCertificate('irc-supervisor test CA');
  await Promise.all([writeFile(certPath, root.cert), writeFile(keyPath, root.key)]);
  let issued = 0;
  return {
    certPath,
    async issue({ altNames, expired = false }) {
      issued += 1;
      const base = join(dir.path, `server-${issued}`);
      await writeFile(`${base}.ext`, `subjectAltName=${altNames}\n`);
      await openssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=irc server',
        '-keyout',
        `${base}.key`,
        '-out',
        `${base}.csr`,
      );
      await openssl(
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        certPath,
        '-CAkey',
        keyPath,
        '-set_serial',
        String(issued),
        '-days',
        expired ? '-1' : '2',
        '-extfile',
        `${base}.ext`,
        '-out',
        `${base}.pem`,
      );
      const [cert, key] = await Promise.all([readFile(`${base}.pem`, 'utf8'), readFile(`${base}.key`, 'utf8')]);
      return { cert, key };
    },
    dispose: () => dir.remove(),
  };
}
