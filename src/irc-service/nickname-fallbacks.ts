/**
 * Which nickname to try next while registering, when the server refuses one: taken (433, 436, 437) or
 * erroneous (432, which for an RFC-valid nickname means too long for this network). Pure; the client actor
 * sends the NICK lines and reports the failure once the list is exhausted.
 */
import { nicknameFallbacks, nicknameLimit } from '../shared/nicknames.ts';

/** Fallbacks tried before registration gives up (the wanted nickname not counted). */
export const NICKNAME_ATTEMPTS = 10;

export class NicknameFallbacks {
  private readonly tried: string[];
  private limit: number;

  constructor(
    private readonly wanted: string,
    networkNicklen?: number,
    private readonly attempts = NICKNAME_ATTEMPTS,
  ) {
    this.tried = [wanted];
    this.limit = nicknameLimit(wanted, networkNicklen);
  }

  /**
   * The next nickname after the server refused `refused`: `taken`, or `erroneous`, after which no longer
   * nickname is tried. Undefined when the list is exhausted.
   */
  next(refused: string, why: 'taken' | 'erroneous'): string | undefined {
    if (why === 'erroneous') this.limit = Math.min(this.limit, Math.max(1, refused.length - 1));
    if (this.tried.length > this.attempts) return undefined;
    const candidate = nicknameFallbacks(this.wanted, this.limit, this.attempts + this.tried.length).find(
      (nickname) => !this.tried.includes(nickname),
    );
    if (candidate === undefined) return undefined;
    this.tried.push(candidate);
    return candidate;
  }

  /** The failure reason once exhausted: every nickname tried, in order. */
  exhaustedReason(): string {
    return `no acceptable nickname: tried ${this.tried.join(', ')}`;
  }
}
