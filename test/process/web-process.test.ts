import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/process/free-port.ts';
import { readSse } from '../../src/shared/sse/sse-reader.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { eventually, type RunningProcess, runProjectProcess } from '../support/process.ts';

const TOKEN = 'internal-token-that-must-never-be-logged';
const WEB_PASSWORD = 'web-password-that-must-never-be-logged';
const SERVER_PASSWORD = 'irc-server-password-never-logged';
const SASL_PASSWORD = 'sasl-secret-4c7e19';
/** A private key's body: the armour is public, the middle is the secret. */
const CLIENT_KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secretkeybody';
const auth = { authorization: `Basic ${Buffer.from(`operator:${WEB_PASSWORD}`).toString('base64')}` };

describe('the web process', () => {
  let db: TestDatabase;
  let web: RunningProcess;
  afterEach(async () => {
    await web?.kill();
    await db?.drop();
  });

  async function startWeb(): Promise<string> {
    db = await createTestDatabase();
    const port = await freePort();
    web = runProjectProcess('src/web/main.ts', {
      DATABASE_URL: db.url,
      PORT: String(port),
      INTERNAL_API_TOKEN: TOKEN,
      WEB_PASSWORD,
      // nothing listens there: every call to the IRC service fails
      IRC_SERVICE_URL: `http://127.0.0.1:${await freePort()}`,
      HEALTH_CHECK_INTERVAL_MS: '200',
      LOG_LEVEL: 'trace',
      DEBUG_MACHINES: '1',
    });
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${url}/healthz`)).ok, 30_000);
    return url;
  }

  it('never writes a secret to its logs or its error answers', async () => {
    const url = await startWeb();
    const created = await fetch(`${url}/api/servers`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'n',
        host: 'irc.example',
        port: 6697,
        tls: true,
        nickname: 'me',
        password: SERVER_PASSWORD,
        clientCertificate: '-----BEGIN CERTIFICATE-----\nMIIBpublic\n-----END CERTIFICATE-----\n',
        clientKey: `-----BEGIN PRIVATE KEY-----\n${CLIENT_KEY_BODY}\n-----END PRIVATE KEY-----\n`,
        sasl: { mechanism: 'PLAIN', account: 'me', password: SASL_PASSWORD },
      }),
    });
    const createdAnswer = await created.text();
    const { id } = JSON.parse(createdAnswer);
    const answers = [
      createdAnswer,
      await (await fetch(`${url}/api/servers/${id}/connect`, { method: 'POST', headers: auth })).text(),
      await (await fetch(`${url}/api/servers`, { headers: auth })).text(),
      await (await fetch(`${url}/api/servers`, { headers: { authorization: 'Basic d3Jvbmc6d3Jvbmc=' } })).text(),
      await (await fetch(`${url}/api/health-check`, { method: 'POST', headers: auth })).text(),
    ];
    // a few checks run and fail against the absent IRC service, with transitions logged
    await web.waitForOutput(/ServiceUnavailable/);
    await web.waitForOutput(/--done\(check\)-->/);

    expect(JSON.parse(createdAnswer)).toMatchObject({ hasSaslPassword: true, hasClientKey: true });
    for (const secret of [TOKEN, WEB_PASSWORD, SERVER_PASSWORD, SASL_PASSWORD, CLIENT_KEY_BODY]) {
      expect(web.output()).not.toContain(secret);
      for (const answer of answers) expect(answer).not.toContain(secret);
    }
  });

  it('shuts down gracefully on SIGTERM: streams end, the process exits 0', async () => {
    const url = await startWeb();
    const streams = await Promise.all(
      [1, 2, 3].map(async () => (await fetch(`${url}/events`, { headers: auth })).body!),
    );
    const ended = streams.map(async (body) => {
      for await (const _ of readSse(body)) {
        // drain until the server ends the stream
      }
      return true;
    });

    web.child.kill('SIGTERM');

    expect(await web.exited).toBe(0);
    expect(await Promise.all(ended)).toEqual([true, true, true]);
    expect(web.output()).not.toMatch(/shutdown took longer/);
  });
});
