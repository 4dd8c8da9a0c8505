/**
 * Which server replies mean that reconnecting cannot help: banned (465), a wrong server password (464), an
 * `ERROR :Closing Link` that names a K-line, G-line or ban, and an ERROR that says access denied or a bad
 * password (how ngircd and InspIRCd refuse a wrong server password, neither with a 464: ngircd
 * `Access denied: Bad password?`, InspIRCd `Closing link: (user@host) [Access denied by configuration]`).
 * Reconnect loops after a ban are how bridges and web clients get their whole host banned, so these end in
 * the connection's `failed` state. A 465 is usually followed by the ERROR that closes the link, which often
 * says more (InspIRCd's 465 is only `You're banned!`, its ERROR `Closing link: (user@host) [K-lined: spamming]`):
 * the reason keeps both.
 */

/** An ERROR text that says the host is banned: K-lined, G-lined, Z-lined, D-lined, AKILL, banned. */
const BAN_TEXT = /\b[kgzd][-:]?lined?\b|\bbanned\b|\bakill\b/i;

/** An ERROR text that says the server refuses this client whatever it retries: access denied, a bad password. */
const REFUSED_TEXT = /\baccess denied\b|\bbad password\b|\bpassword (?:mismatch|incorrect)\b/i;

/** irc-framework's `irc error` event: its error kind and the server's text. */
export interface IrcErrorReply {
  error: string;
  reason?: string;
}

/** The failure reason when `reply` is fatal, else undefined (an ordinary ERROR, such as the answer to our QUIT). */
export function fatalErrorLine(reply: IrcErrorReply): string | undefined {
  const text = reply.reason?.trim();
  switch (reply.error) {
    case 'banned_from_network':
      return `banned by the server (465)${text ? `: ${text}` : ''}`;
    case 'password_mismatch':
      return `the server refused the password (464)${text ? `: ${text}` : ''}`;
    case 'irc':
      if (!text) return undefined;
      if (BAN_TEXT.test(text)) return `banned by the server: ${text}`;
      return REFUSED_TEXT.test(text) ? `the server refused the connection: ${text}` : undefined;
    default:
      return undefined;
  }
}

/** A 465's reason with the text of the ERROR that followed it, if any: `banned by the server (465): … (Closing link: …)`. */
export function bannedWithError(banned: string, errorText: string | undefined): string {
  const text = errorText?.trim();
  return text ? `${banned} (${text})` : banned;
}
