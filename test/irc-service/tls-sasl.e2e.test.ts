/**
 * TLS verification and SASL through the real client actor, against a scripted IRC server over TLS with a
 * self-signed certificate made by openssl: refused by default with its reason, accepted with `tlsVerify: false`
 * or a matching `tlsFingerprint`, refused with a wrong one; SASL PLAIN success and failure (904, 906 aborted, 908
 * a mechanism not offered), EXTERNAL with a client certificate; one case through the IRC service's HTTP API.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IrcConnectionSettings } from '../../machines/irc-connection.machine.ts';
import { ConnectThrottle } from '../../src/irc-service/connect-throttle.ts';
import { createIrcClientActor } from '../../src/irc-service/irc-client.actor.ts';
import { IrcConnectionRegistry } from '../../src/irc-service/irc-connection-registry.ts';
import type { IrcEventPayload } from '../../src/shared/irc-events.ts';
import { ircEvent, startInProcessIrcService } from '../support/in-process-irc-service.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { type IrcScript, saslScript, startScriptedIrcServer } from '../support/scripted-irc-server.ts';
import { makeSelfSignedCertificate, type SelfSignedCertificate } from '../support/self-signed-certificate.ts';

/** Long enough for several reconnects had the connection not failed. */
const QUIET_WINDOW_MS = 1_000;

describe.skipIf(lacks('openssl'))('TLS verification and SASL against a scripted server', () => {
  let serverCertificate: SelfSignedCertificate;
  let clientCertificate: SelfSignedCertificate;
  beforeAll(async () => {
    [serverCertificate, clientCertificate] = await Promise.all([
      makeSelfSignedCertificate(),
      makeSelfSignedCertificate('tester'),
    ]);
  });

  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A TLS server with the self-signed certificate, and one connection to it through the real client actor. */
  async function connect(
    settings: Partial<IrcConnectionSettings>,
    script: IrcScript = saslScript(() => true),
    requestClientCertificate = false,
  ) {
    const server = await startScriptedIrcServer(script, {
      tls: { cert: serverCertificate.cert, key: serverCertificate.key, requestClientCertificate },
    });
    const states: Array<IrcEventPayload<'connection-state'>> = [];
    const registry = new IrcConnectionRegistry({
      clientLogic: createIrcClientActor({ throttle: new ConnectThrottle(8), sendIntervalMs: 10 }),
      onEvent: (event) => {
        if (event.type === 'connection-state') states.push(event.payload);
      },
      // a retried connection would show within the quiet window
      timing: { reconnectBaseMs: 100, reconnectMaxMs: 200, reconnectJitter: 0 },
    });
    cleanups.push(
      () => server.dispose(),
      () => registry.stopAll(1_000),
    );
    registry.put(1, {
      settings: { host: server.host, port: server.port, tls: true, nickname: 'tester', ...settings },
    });
    const state = () => registry.connectionStates()[0];
    return { server, registry, states, state };
  }

  it('refuses a self-signed certificate by default: failed with the reason, not retried', async () => {
    const { server, state } = await connect({});

    await eventually(() => state()?.state === 'failed');

    expect(state()?.lastError?.message).toBe('self-signed certificate');
    await expect(server.waitForAccepted(2, QUIET_WINDOW_MS)).rejects.toThrow(/accepted 1 sockets/);
    expect(server.lines).toEqual([]);
  });

  it('accepts a self-signed certificate with tlsVerify false', async () => {
    const { state } = await connect({ tlsVerify: false });

    await eventually(() => state()?.state === 'socket.registered');
  });

  it('accepts the certificate its tlsFingerprint pins', async () => {
    const pinned = serverCertificate.fingerprint256.replaceAll(':', '').toLowerCase();
    const { state } = await connect({ tlsFingerprint: pinned });

    await eventually(() => state()?.state === 'socket.registered');
  });

  it('refuses a certificate other than the pinned one before writing a line, not retried', async () => {
    const { server, state } = await connect({ tlsFingerprint: 'ab'.repeat(32), password: 'server-secret' });

    await eventually(() => state()?.state === 'failed');

    expect(state()?.lastError?.message).toMatch(/^certificate fingerprint mismatch/);
    // not even PASS reached the impostor
    expect(server.lines).toEqual([]);
    await expect(server.waitForAccepted(2, QUIET_WINDOW_MS)).rejects.toThrow(/accepted 1 sockets/);
  });

  it('SASL PLAIN: the account and password reach the server, then registered', async () => {
    const payloads: Array<string | undefined> = [];
    const script = saslScript((payload) => {
      payloads.push(payload);
      return payload === 'bot\0bot\0sasl-secret';
    });
    const { state } = await connect(
      { tlsVerify: false, sasl: { mechanism: 'PLAIN', account: 'bot', password: 'sasl-secret' } },
      script,
    );

    await eventually(() => state()?.state === 'socket.registered');

    expect(payloads).toEqual(['bot\0bot\0sasl-secret']);
  });

  it('SASL PLAIN refused (904): failed with the reason, not retried', async () => {
    const script = saslScript(() => false);
    const { server, state } = await connect(
      { tlsVerify: false, sasl: { mechanism: 'PLAIN', account: 'bot', password: 'wrong' } },
      script,
    );

    await eventually(() => state()?.state === 'failed');

    expect(state()?.lastError?.message).toBe(
      'SASL authentication failed (904): SASL authentication failed: Invalid account credentials',
    );
    await expect(server.waitForAccepted(2, QUIET_WINDOW_MS)).rejects.toThrow(/accepted 1 sockets/);
  });

  it('SASL PLAIN refused with saslRequired false: registered unauthenticated, the failure kept as lastError', async () => {
    const { state } = await connect(
      { tlsVerify: false, sasl: { mechanism: 'PLAIN', account: 'bot', password: 'wrong' }, saslRequired: false },
      saslScript(() => false),
    );

    await eventually(() => state()?.state === 'socket.registered');

    expect(state()?.lastError?.message).toMatch(/^SASL authentication failed \(904\)/);
  });

  it('SASL aborted by the server (906): failed with the reason, not retried', async () => {
    const { server, state } = await connect(
      { tlsVerify: false, sasl: { mechanism: 'PLAIN', account: 'bot', password: 'sasl-secret' } },
      saslScript(() => 'abort'),
    );

    await eventually(() => state()?.state === 'failed');

    expect(state()?.lastError?.message).toBe('SASL authentication failed (906): SASL authentication aborted');
    await expect(server.waitForAccepted(2, QUIET_WINDOW_MS)).rejects.toThrow(/accepted 1 sockets/);
  });

  it('SASL aborted (906) with saslRequired false: registered unauthenticated, the 906 kept as lastError', async () => {
    const { state } = await connect(
      {
        tlsVerify: false,
        sasl: { mechanism: 'PLAIN', account: 'bot', password: 'sasl-secret' },
        saslRequired: false,
      },
      saslScript(() => 'abort'),
    );

    await eventually(() => state()?.state === 'socket.registered');

    expect(state()?.lastError?.message).toBe('SASL authentication failed (906): SASL authentication aborted');
  });

  it.each([
    ['listed in a 908 (SASL 3.1)', false],
    ['listed in its CAP value (SASL 3.2)', true],
  ])(
    'a mechanism the server does not offer, %s: failed, the reason names the ones it offers, not retried',
    async (_name, listInCap) => {
      const { server, state } = await connect(
        {
          tlsVerify: false,
          clientCertificate: clientCertificate.cert,
          clientKey: clientCertificate.key,
          sasl: { mechanism: 'EXTERNAL' },
        },
        saslScript(() => true, { mechanisms: ['PLAIN', 'SCRAM-SHA-256'], listInCap }),
      );

      await eventually(() => state()?.state === 'failed');

      expect(state()?.lastError?.message).toBe(
        'SASL authentication failed (908): the server does not offer EXTERNAL; it offers PLAIN, SCRAM-SHA-256',
      );
      await expect(server.waitForAccepted(2, QUIET_WINDOW_MS)).rejects.toThrow(/accepted 1 sockets/);
    },
  );

  it('a mechanism the server does not offer (908) with saslRequired false: registered unauthenticated', async () => {
    const { state } = await connect(
      {
        tlsVerify: false,
        clientCertificate: clientCertificate.cert,
        clientKey: clientCertificate.key,
        sasl: { mechanism: 'EXTERNAL' },
        saslRequired: false,
      },
      saslScript(() => true, { mechanisms: ['PLAIN'], listInCap: false }),
    );

    await eventually(() => state()?.state === 'socket.registered');

    expect(state()?.lastError?.message).toBe(
      'SASL authentication failed (908): the server does not offer EXTERNAL; it offers PLAIN',
    );
  });

  it('SASL EXTERNAL: the client certificate is presented, then registered', async () => {
    const presented: Array<string | undefined> = [];
    const script = saslScript((_payload, client) => {
      presented.push(client.clientCertificateFingerprint);
      return client.clientCertificateFingerprint === clientCertificate.fingerprint256;
    });
    const { state } = await connect(
      {
        tlsVerify: false,
        clientCertificate: clientCertificate.cert,
        clientKey: clientCertificate.key,
        sasl: { mechanism: 'EXTERNAL' },
      },
      script,
      true,
    );

    await eventually(() => state()?.state === 'socket.registered');

    expect(presented).toEqual([clientCertificate.fingerprint256]);
  });

  it('through the HTTP API: a PUT with a pinned fingerprint and SASL registers; a bad body is a 400 naming the field', async () => {
    const server = await startScriptedIrcServer(
      saslScript((payload) => payload === 'bot\0bot\0sasl-secret'),
      {
        tls: { cert: serverCertificate.cert, key: serverCertificate.key },
      },
    );
    const service = await startInProcessIrcService();
    cleanups.push(
      () => server.dispose(),
      () => service.close(),
    );
    const body = {
      host: server.host,
      port: server.port,
      tls: true,
      nickname: 'tester',
      tlsFingerprint: serverCertificate.fingerprint256,
      sasl: { mechanism: 'PLAIN', account: 'bot', password: 'sasl-secret' },
    };

    const refused = await service.request('PUT', '/internal/irc/connections/3', {
      ...body,
      sasl: { mechanism: 'EXTERNAL' },
    });
    const answer = await service.request('PUT', '/internal/irc/connections/3', body);

    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { field: 'sasl' } });
    expect(answer).toEqual({ status: 202, body: { serverId: 3, outcome: 'started' } });
    await service.stream.waitFor(ircEvent('connection-state', { serverId: 3, state: 'socket.registered' }));
  });
});
