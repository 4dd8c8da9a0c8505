/** A self-signed certificate for 127.0.0.1, made by openssl in a temporary folder, with its SHA-256 fingerprint. */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OPENSSL } from './requirements.ts';
import { makeTempDir } from './temp-dir.ts';

export interface SelfSignedCertificate {
  /** PEM. */
  cert: string;
  /** PEM, unencrypted. */
  key: string;
  /** SHA-256 of the certificate, upper-case hex with colons, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: string;
}

/** A fresh key and certificate, `CN=commonName`, valid for IP 127.0.0.1. */
export async function makeSelfSignedCertificate(commonName = '127.0.0.1'): Promise<SelfSignedCertificate> {
  if (OPENSSL === undefined) throw new Error('openssl is not installed');
  const dir = await makeTempDir('self-signed');
  try {
    const keyPath = join(dir.path, 'key.pem');
    const certPath = join(dir.path, 'cert.pem');
    await promisify(execFile)(OPENSSL, [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ]);
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key, fingerprint256: new X509Certificate(cert).fingerprint256 };
  } finally {
    await dir.remove();
  }
}
