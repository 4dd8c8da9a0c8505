/**
 * Certificate failures end to end: the IRC service and the web side as real processes that trust a test
 * certificate authority (`NODE_EXTRA_CA_CERTS`, as an operator trusts a private network's CA), and scripted IRC
 * servers over TLS with certificates it signed. A valid one registers (so the authority is trusted); an expired
 * one and one for another name are refused by default, `failed` with the reason where an operator looks (the IRC
 * service's status, list and events, the web API), and not tried again within the window in which a lost socket would
 * have been retried several times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionState } from '../../src/shared/irc-service-contract.ts';
import type { FailureView } from '../../src/shared/web-events.ts';
import { type CertificateAuthority, makeCertificateAuthority } from '../support/certificate-authority.ts';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { answerRegistration, type ScriptedIrcServer, startScriptedIrcServer } from '../support/scripted-irc-server.ts';
import { openSse, type SseClient, type SseEvent } from '../support/sse-client.ts';
import { type System, startSystem } from '../support/system.ts';
import { type WebApi, webApi } from '../support/web-api.ts';

/** With reconnects capped at 200 ms, a connection retried like a lost socket would connect again within this. */
const QUIET_WINDOW_MS = 1_500;

describe.skipIf(lacks('ngircd') || lacks('openssl'))('certificate failures, end to end', { timeout: 60_000 }, () => {
  let authority: CertificateAuthority;
  let system: System;
  let api: WebApi;
  let ircEvents: SseClient;
  const servers: ScriptedIrcServer[] = [];

  beforeAll(async () => {
    authority = await makeCertificateAuthority();
    system = await startSystem({
      env: { NODE_EXTRA_CA_CERTS: authority.certPath, IRC_RECONNECT_MAX_MS: '200' },
    });
    api = webApi(system.web.url);
    await api.settled();
    ircEvents = await openSse(`${system.irc.url}/internal/irc/events`, {
      authorization: `Bearer ${system.token}`,
    });
  });

  afterAll(async () => {
    ircEvents?.close();
    for (const server of servers.splice(0)) await server.dispose();
    await system?.dispose();
    await authority?.dispose();
  });

  /** A scripted IRC server over TLS with a certificate the authority issued, welcoming every client. */
  async function tlsServer(options: Parameters<CertificateAuthority['issue']>[0]) {
    const certificate = await authority.issue(options);
    const server = await startScriptedIrcServer(
      answerRegistration((nickname) => ({
        lines: [`:irc.test 001 ${nickname} :Welcome`, `:irc.test 422 ${nickname} :MOTD File is missing`],
        close: false,
      })),
      { tls: certificate },
    );
    servers.push(server);
    return server;
  }

  /** A server added through the web API with TLS and its defaults (verification on), then connected. */
  async function connectServer(server: ScriptedIrcServer, nickname: string): Promise<number> {
    const serverId = await api.createServer({ host: server.host, port: server.port, nickname, tls: true });
    await api.connect(serverId);
    return serverId;
  }

  /** The server's `failure` in `GET /api/servers/:id`, once it has one. */
  async function failureShown(serverId: number): Promise<FailureView> {
    return (await eventually(async () => {
      const response = await fetch(`${system.web.url}/api/servers/${serverId}`);
      return ((await response.json()) as { failure: FailureView | null }).failure ?? undefined;
    }, 15_000))!;
  }

  /** The connection in `GET /internal/irc/connections` of the IRC service. */
  async function listed(serverId: number): Promise<ConnectionState | undefined> {
    const response = await system.internalFetch(`${system.irc.url}/internal/irc/connections`);
    const { connections } = (await response.json()) as { connections: ConnectionState[] };
    return connections.find((connection) => connection.serverId === serverId);
  }

  /** Waits for the `failed` connection-state event of the server on the IRC service's stream. */
  async function failedEvent(serverId: number): Promise<ConnectionState> {
    const event = await ircEvents.waitFor(
      (candidate: SseEvent) =>
        candidate.type === 'connection-state' &&
        (candidate.data as ConnectionState).serverId === serverId &&
        (candidate.data as ConnectionState).state === 'failed',
      15_000,
    );
    return event.data as ConnectionState;
  }

  it('a valid certificate from the trusted authority registers (the refusals below are about the certificate)', async () => {
    const server = await tlsServer({ altNames: 'IP:127.0.0.1' });

    const serverId = await connectServer(server, 'trusting');

    await eventually(async () => (await listed(serverId))?.state === 'socket.registered', 15_000);
  });

  it.each([
    ['an expired certificate', { altNames: 'IP:127.0.0.1', expired: true }, 'certificate has expired'],
    [
      'a certificate for another name',
      { altNames: 'DNS:irc.other.example' },
      "certificate name mismatch: 127.0.0.1 is not among the certificate's names (DNS:irc.other.example)",
    ],
  ])(
    '%s: refused by default, failed with the reason on the IRC service and the web API, not retried',
    async (_name, certificate, reason) => {
      const server = await tlsServer(certificate);

      const serverId = await connectServer(server, 'verifier');
      const event = await failedEvent(serverId);

      expect(event.lastError?.message).toBe(reason);
      expect((await listed(serverId))?.lastError?.message).toBe(reason);
      const status = (await (await system.internalFetch(`${system.irc.url}/internal/irc/status`)).json()) as {
        connections: number[];
        failed?: number[];
      };
      expect(status.failed).toContain(serverId);
      expect(status.connections).not.toContain(serverId);
      expect((await failureShown(serverId)).message).toBe(reason);
      // the refused handshake was the only attempt: no line written, no second connect within the window
      await expect(server.waitForAccepted(2, QUIET_WINDOW_MS)).rejects.toThrow(/accepted 1 sockets/);
      expect(server.lines).toEqual([]);
      expect((await listed(serverId))?.state).toBe('failed');
    },
  );
});
