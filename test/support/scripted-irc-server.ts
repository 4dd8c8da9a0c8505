/**
 * A scripted IRC server for replies a stock server cannot give without services or operators (465 banned, a
 * K-line ERROR, SASL: `saslScript`): a loopback TCP (or TLS) listener that answers each client's lines from a script, and counts
 * the sockets it accepted (so a test can tell that nobody reconnected).
 *
 * ```ts
 * const server = await startScriptedIrcServer((line, client) => {
 *   if (line.startsWith('USER ')) client.close([':irc.scripted 465 me :You are banned']);
 * });
 * ```
 */
import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { Watched } from './watched.ts';

export interface ScriptedClient {
  /** Sends lines (CR LF added). */
  send(...lines: string[]): void;
  /** Sends these lines, then closes the socket, as a server ends a connection it refuses. */
  close(lines?: string[]): void;
  /** Over TLS with `requestClientCertificate`: the SHA-256 fingerprint of the certificate the client presented. */
  readonly clientCertificateFingerprint: string | undefined;
}

/** Listen over TLS with this certificate and key (PEM); optionally ask each client for its certificate. */
export interface ScriptedTlsOptions {
  cert: string;
  key: string;
  requestClientCertificate?: boolean;
}

/** Called for every line a client sends (without CR LF). */
export type IrcScript = (line: string, client: ScriptedClient) => void;

export interface ScriptedIrcServer {
  readonly host: string;
  readonly port: number;
  /** Sockets accepted so far. */
  readonly accepted: number;
  /** Every line received, from every client, in order. */
  readonly lines: string[];
  /** Resolves once `count` sockets have been accepted. */
  waitForAccepted(count: number, timeoutMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

export async function startScriptedIrcServer(
  script: IrcScript,
  options: { tls?: ScriptedTlsOptions } = {},
): Promise<ScriptedIrcServer> {
  const sockets = new Set<Socket>();
  const lines: string[] = [];
  const watched = new Watched();
  let accepted = 0;

  const onSocket = (socket: Socket) => {
    // over TLS the TCP connection was counted already (a refused handshake is an attempt too)
    if (!(socket instanceof TLSSocket)) accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('utf8');
    const client: ScriptedClient = {
      send: (...out) => {
        if (!socket.destroyed) socket.write(out.map((line) => `${line}\r\n`).join(''));
      },
      close: (out = []) => {
        client.send(...out);
        socket.end();
      },
      get clientCertificateFingerprint() {
        if (!(socket instanceof TLSSocket)) return undefined;
        return socket.getPeerCertificate()?.fingerprint256 || undefined;
      },
    };
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split(/\r?\n/);
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        script(line, client);
      }
      watched.changed();
    });
    watched.changed();
  };
  const { tls } = options;
  const server = tls
    ? createTlsServer(
        // the client's certificate is asked for, not verified: the script looks at what was presented
        { cert: tls.cert, key: tls.key, requestCert: tls.requestClientCertificate ?? false, rejectUnauthorized: false },
        onSocket,
      )
    : createServer(onSocket);
  // a handshake the client refuses (an untrusted certificate) is an outcome of the test, not an error here
  server.on('tlsClientError', () => {});
  if (tls) {
    server.on('connection', () => {
      accepted += 1;
      watched.changed();
    });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('scripted IRC server: no port');

  return {
    host: '127.0.0.1',
    port: address.port,
    get accepted() {
      return accepted;
    },
    lines,
    async waitForAccepted(count, timeoutMs = 5_000) {
      await watched.until(
        () => accepted >= count,
        timeoutMs,
        () => `scripted IRC server accepted ${accepted} sockets, not ${count}`,
      );
    },
    async dispose() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a scripted server answers a client's registration (its NICK and USER). */
export interface RegistrationAnswer {
  /** Lines to send, without CR LF. */
  lines: string[];
  /** Close the socket after sending them (as after an ERROR line). */
  close: boolean;
}

/** A script that answers each client once, when both its NICK and its USER have come, by its nickname. */
export function answerRegistration(answer: (nickname: string) => RegistrationAnswer): IrcScript {
  const clients = new WeakMap<ScriptedClient, { nickname?: string; user?: boolean; answered?: boolean }>();
  return (line, client) => {
    const seen = clients.get(client) ?? {};
    clients.set(client, seen);
    const nick = /^NICK (\S+)/.exec(line)?.[1];
    if (nick) seen.nickname = nick;
    if (line.startsWith('USER ')) seen.user = true;
    if (seen.answered || !seen.nickname || !seen.user) return;
    seen.answered = true;
    const { lines, close } = answer(seen.nickname);
    if (close) client.close(lines);
    else client.send(...lines);
  };
}

/** The SASL mechanisms a scripted server offers, and how it lists them in CAP LS. */
export interface SaslOffer {
  /** Mechanisms it takes (default PLAIN and EXTERNAL); another is answered 908 (the list), then 904. */
  mechanisms?: string[];
  /** `sasl=PLAIN,EXTERNAL` (SASL 3.2, the default) or a bare `sasl` (3.1: the client learns the list from a 908). */
  listInCap?: boolean;
}

/**
 * A server that offers SASL and welcomes a client once its NICK, USER and CAP END have come. `authenticate` judges
 * the client's PLAIN payload (decoded) or its EXTERNAL certificate: true answers 900/903, false 904, `abort` 906.
 */
export function saslScript(
  authenticate: (credentials: string | undefined, client: ScriptedClient) => boolean | 'abort',
  { mechanisms = ['PLAIN', 'EXTERNAL'], listInCap = true }: SaslOffer = {},
): IrcScript {
  const clients = new WeakMap<
    ScriptedClient,
    { nick?: string; user?: boolean; capEnd?: boolean; mechanism?: string }
  >();
  return (line, client) => {
    const seen = clients.get(client) ?? {};
    clients.set(client, seen);
    const [command, ...params] = line.split(' ');
    if (command === 'PING') client.send(`PONG irc.test ${params.join(' ')}`);
    else if (command === 'NICK') seen.nick = params[0];
    else if (command === 'USER') seen.user = true;
    else if (line.startsWith('CAP LS')) client.send(`:irc.test CAP * LS :sasl${listInCap ? `=${mechanisms}` : ''}`);
    else if (line.startsWith('CAP REQ')) client.send(`:irc.test CAP * ACK ${params.slice(1).join(' ')}`);
    else if (line === 'CAP END') seen.capEnd = true;
    else if (command === 'AUTHENTICATE' && seen.mechanism === undefined && !mechanisms.includes(params[0] ?? '')) {
      client.send(
        `:irc.test 908 ${seen.nick} ${mechanisms} :are available SASL mechanisms`,
        `:irc.test 904 ${seen.nick} :SASL authentication failed`,
      );
    } else if (command === 'AUTHENTICATE' && seen.mechanism === undefined) {
      seen.mechanism = params[0];
      client.send('AUTHENTICATE +');
    } else if (command === 'AUTHENTICATE') {
      const payload = seen.mechanism === 'PLAIN' ? Buffer.from(params[0] ?? '', 'base64').toString('utf8') : undefined;
      const verdict = authenticate(payload, client);
      if (verdict === 'abort') client.send(`:irc.test 906 ${seen.nick} :SASL authentication aborted`);
      else if (verdict) {
        client.send(
          `:irc.test 900 * ${seen.nick}!u@h account :You are now logged in as account`,
          ':irc.test 903 * :SASL authentication successful',
        );
      } else client.send(':irc.test 904 * :SASL authentication failed: Invalid account credentials');
    }
    if (seen.nick && seen.user && seen.capEnd) {
      seen.capEnd = false;
      client.send(`:irc.test 001 ${seen.nick} :Welcome`, `:irc.test 422 ${seen.nick} :MOTD File is missing`);
    }
  };
}
