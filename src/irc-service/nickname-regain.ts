/**
 * Takes the wanted nickname back once it frees, for a connection registered under a fallback (as soju and
 * The Lounge do): MONITOR where the network offers it (the server says when the nickname goes offline),
 * else ISON at a modest interval. It only decides and writes lines; the client actor feeds it the server's
 * answers and stops it with the socket.
 */

export interface NicknameRegainOptions {
  wanted: string;
  /** Compares nicknames by the network's CASEMAPPING. */
  sameNickname: (a: string, b: string) => boolean;
  /** Writes one IRC line (through the connection's flood control). */
  send: (line: string) => void;
  /** ISUPPORT MONITOR is offered. */
  monitor: boolean;
  /** Pause between two ISON checks where there is no MONITOR. */
  isonIntervalMs: number;
}

export class NicknameRegain {
  private timer: NodeJS.Timeout | undefined;
  private watching = false;

  constructor(private readonly options: NicknameRegainOptions) {}

  /** Registered (or renamed) as `current`: watch the wanted nickname when `current` is not it, else stop. */
  update(current: string): void {
    if (this.options.sameNickname(current, this.options.wanted)) {
      this.stop();
      return;
    }
    if (this.watching) return;
    this.watching = true;
    if (this.options.monitor) this.options.send(`MONITOR + ${this.options.wanted}`);
    else this.askIson();
  }

  /** MONITOR's 731 (offline) or an ISON answer without it: the wanted nickname is free, so take it. */
  offline(nicknames: readonly string[]): void {
    if (!this.watching) return;
    if (nicknames.some((nickname) => this.options.sameNickname(nickname, this.options.wanted))) this.take();
  }

  /** An ISON answer (303): the nicknames of those asked that are online. */
  isonReply(online: readonly string[]): void {
    if (!this.watching || this.options.monitor) return;
    const taken = online.some((nickname) => this.options.sameNickname(nickname, this.options.wanted));
    if (!taken) this.take();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.watching && this.options.monitor) this.options.send(`MONITOR - ${this.options.wanted}`);
    this.watching = false;
  }

  private take(): void {
    this.options.send(`NICK ${this.options.wanted}`);
  }

  private askIson(): void {
    this.timer = setTimeout(() => {
      this.options.send(`ISON ${this.options.wanted}`);
      this.askIson();
    }, this.options.isonIntervalMs);
  }
}
