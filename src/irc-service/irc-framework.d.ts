/**
 * The part of irc-framework 4.14 this project uses; the package ships no types and there is no @types
 * package. Only src/irc-service/irc-client.actor.ts imports it.
 */
declare module 'irc-framework' {
  export interface ClientOptions {
    host: string;
    port: number;
    tls?: boolean;
    nick: string;
    username?: string;
    gecos?: string;
    password?: string;
    /** Off here: the connection machine owns retries. */
    auto_reconnect?: boolean;
    /** Seconds between our PINGs once registered. */
    ping_interval?: number;
    /** Seconds of silence from the server before the socket counts as dead. */
    ping_timeout?: number;
    version?: string;
    /** Passed to tls.connect; irc-framework leaves it undefined unless given (Node then verifies). */
    rejectUnauthorized?: boolean;
    /** Client certificate and key (PEM), passed to tls.connect as `cert` and `key`. */
    client_certificate?: { certificate: string; private_key: string };
    /** SASL credentials; an object without `account` stops irc-framework from sending the server password as SASL PLAIN. */
    account?: { account?: string; password?: string };
    /** `PLAIN` (default) or `EXTERNAL`. */
    sasl_mechanism?: string;
    /** irc-framework may end the socket itself on a SASL failure; off here, the actor decides. */
    sasl_disconnect_on_fail?: boolean;
  }

  export interface NickEvent {
    nick: string;
    ident?: string;
    hostname?: string;
  }

  export interface ClientEvents {
    registered: [event: { nick: string }];
    join: [event: NickEvent & { channel: string }];
    part: [event: NickEvent & { channel: string; message: string }];
    kick: [event: NickEvent & { channel: string; kicked: string; message: string }];
    quit: [event: NickEvent & { message: string }];
    nick: [event: NickEvent & { new_nick: string }];
    userlist: [event: { channel: string; users: Array<{ nick: string; modes: string[] }> }];
    'nick in use': [event: { nick: string; reason: string }];
    'nick invalid': [event: { nick: string; reason: string }];
    /** A command or numeric irc-framework has no handler for (436, 437 among them). */
    'unknown command': [command: { command: string; params: string[] }];
    /** End of the MOTD (376) or no MOTD (422): ISUPPORT has arrived by then. */
    motd: [event: { motd?: string; error?: string }];
    /** ISON's answer (303), or MONITOR's 730. */
    'users online': [event: { nicks: string[] }];
    /** MONITOR's 731. */
    'users offline': [event: { nicks: string[] }];
    /** `error` is `irc` for the server's ERROR line, else a name such as `password_mismatch` or `banned_from_network`. */
    'irc error': [event: { error: string; reason?: string; channel?: string }];
    /** Every line read or written (`from_server` tells which). */
    raw: [event: { line: string; from_server: boolean }];
    /** `reason`: fail (904), too_long (905), nick_locked (902), unsupported_mechanism, capability_missing (906 emits none). */
    'sasl failed': [event: { reason: string; message?: string }];
    'ping timeout': [];
    'socket close': [error?: Error | false];
    close: [hadError: boolean];
  }

  export class Client {
    constructor(options?: Partial<ClientOptions>);
    readonly user: { nick: string };
    readonly connected: boolean;
    readonly network: {
      /** An ISUPPORT (005) token's value (`true` for a token without one), undefined when not sent. */
      supports(name: string): string | boolean | undefined;
      /** Capabilities the server listed in CAP LS, by name, with their values (`sasl` → its mechanisms, if any). */
      cap: { available: Map<string, string> };
    };
    readonly connection: {
      /** Writes one line (irc-framework's every write goes through here); replaced to add flood control. */
      write(line: string, done?: () => void): boolean;
      /** Writes `data`, then ends (or, with hadError, destroys) the socket. */
      end(data?: string | null, hadError?: boolean): void;
      /** The net transport's socket: a TLSSocket when `tls` is on. */
      transport: { disposeSocket(): void; socket?: import('node:tls').TLSSocket | import('node:net').Socket } | null;
    };
    connect(options?: ClientOptions): void;
    quit(message?: string): void;
    join(channel: string, key?: string): void;
    part(channel: string, message?: string): void;
    /** Sends one raw IRC line, e.g. `raw('NAMES', '#chan')`. */
    raw(...words: string[]): void;
    changeNick(nick: string): void;
    caseCompare(a: string, b: string): boolean;
    on<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this;
    /** eventemitter3's emit: every event of the client passes here (the client actor wraps it). */
    emit(event: string, ...args: unknown[]): boolean;
    removeAllListeners(): this;
  }

  const IRC: { Client: typeof Client };
  export default IRC;
}
