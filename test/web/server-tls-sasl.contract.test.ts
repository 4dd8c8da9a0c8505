/**
 * TLS and SASL settings across the wire: what the servers API saves reaches the IRC service's connection (the real
 * IRC service app answers the PUT), the secrets (SASL password, client key) are never answered, and settings that
 * disagree (EXTERNAL without a client certificate) are a 400 naming the field, on a create and on an edit.
 */
import { describe, expect, it } from 'vitest';
import { webToIrcService } from './web-to-irc-service.ts';

const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIBcertificate\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEkeysecretbody\n-----END PRIVATE KEY-----\n';
const SASL_PASSWORD = 'sasl-hunter2';

describe('TLS and SASL settings, web side to IRC service', () => {
  const wire = webToIrcService();

  const newServer = (settings: Record<string, unknown>) => ({
    name: 'Secure net',
    host: 'irc.secure.example',
    port: 6697,
    tls: true,
    nickname: 'watcher',
    autoconnect: true,
    ...settings,
  });

  it('SASL PLAIN, a client certificate and a pinned fingerprint reach the connection; secrets are never answered', async () => {
    wire.forwardToIrcService();
    const fingerprint = `${'AB:'.repeat(31)}AB`;

    const created = await wire.json(
      'POST',
      '/api/servers',
      newServer({
        tlsFingerprint: fingerprint,
        clientCertificate: CERTIFICATE,
        clientKey: KEY,
        sasl: { mechanism: 'PLAIN', account: 'watcher', password: SASL_PASSWORD },
        saslRequired: false,
      }),
    );
    await wire.reconciler.settled();

    expect(created.status).toBe(201);
    const view = await created.json();
    expect(view).toMatchObject({
      tlsVerify: true,
      tlsFingerprint: 'ab'.repeat(32),
      hasClientCertificate: true,
      hasClientKey: true,
      sasl: { mechanism: 'PLAIN', account: 'watcher' },
      hasSaslPassword: true,
      saslRequired: false,
    });
    const listed = await (await wire.app.request('/api/servers')).text();
    for (const answer of [JSON.stringify(view), listed]) {
      expect(answer).not.toContain(SASL_PASSWORD);
      expect(answer).not.toContain('keysecretbody');
    }
    expect(await wire.registeredIds()).toContain(view.id);
    expect(wire.opened.at(-1)?.settings).toMatchObject({
      tlsFingerprint: 'ab'.repeat(32),
      clientCertificate: CERTIFICATE,
      clientKey: KEY,
      sasl: { mechanism: 'PLAIN', account: 'watcher', password: SASL_PASSWORD },
      saslRequired: false,
    });
    expect(wire.opened.at(-1)?.settings.tlsVerify).not.toBe(false);
  });

  it('refuses EXTERNAL without a client certificate with a 400 naming sasl, writing nothing', async () => {
    const before = await wire.serverCount();

    const response = await wire.json('POST', '/api/servers', newServer({ sasl: { mechanism: 'EXTERNAL' } }));

    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ field: 'sasl' });
    expect(await wire.serverCount()).toBe(before);
  });

  it('refuses a fingerprint that is not SHA-256 with a 400 naming tlsFingerprint', async () => {
    const response = await wire.json('POST', '/api/servers', newServer({ tlsFingerprint: 'abcd' }));

    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ field: 'tlsFingerprint' });
  });

  it('on an edit: EXTERNAL with the saved certificate is taken; removing the key under it is a 400 naming clientKey', async () => {
    wire.forwardToIrcService();
    const created = await wire.json(
      'POST',
      '/api/servers',
      newServer({ clientCertificate: CERTIFICATE, clientKey: KEY, autoconnect: false }),
    );
    const { id } = await created.json();

    const external = await wire.json('PATCH', `/api/servers/${id}`, {
      sasl: { mechanism: 'EXTERNAL' },
      tlsVerify: false,
    });
    const keyless = await wire.json('PATCH', `/api/servers/${id}`, { clientKey: null });

    expect(external.status).toBe(200);
    expect(await external.json()).toMatchObject({
      sasl: { mechanism: 'EXTERNAL' },
      tlsVerify: false,
      hasClientKey: true,
    });
    expect(keyless.status).toBe(400);
    expect((await keyless.json()).error).toMatchObject({ field: 'clientKey' });
    const [row] = await wire.db.query<{ client_key: string | null }>('select client_key from servers where id = $1', [
      id,
    ]);
    expect(row?.client_key).toBe(KEY);
  });
});
