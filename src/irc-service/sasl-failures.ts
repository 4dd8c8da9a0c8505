/**
 * SASL failures as the connection's reason, named by the numeric an operator looks up: 904 (refused), 905 (too
 * long), 906 (aborted), 902 (nickname locked), 908 (the mechanism is not offered: the reason names the ones that
 * are). irc-framework reports most as `sasl failed`; 906 it swallows and 908 it does not know, so the client actor
 * reads those two lines itself.
 */

/** irc-framework's `sasl failed` reasons (and ours, `aborted`), as numerics. */
const SASL_FAILURE_NUMERICS: Record<string, string> = {
  fail: '904',
  too_long: '905',
  aborted: '906',
  nick_locked: '902',
  unsupported_mechanism: '908',
};

/** irc-framework's `sasl failed` event; `message` is the server's text when a numeric caused it. */
export interface SaslFailureEvent {
  reason: string;
  message?: string;
}

/**
 * The connection's reason for a SASL failure, e.g. `SASL authentication failed (904): Invalid credentials`.
 * `offered`: the mechanisms the server named (its 908, or the value of its `sasl` capability), comma-separated;
 * when known, a refusal of `wanted` says what the server offers instead.
 */
export function saslFailureReason(event: SaslFailureEvent, wanted: string, offered?: string): string {
  if (event.reason === 'capability_missing') return 'SASL authentication failed: the server does not offer SASL';
  const mechanisms = offered?.split(',').filter((mechanism) => mechanism.length > 0);
  const notOffered = mechanisms !== undefined && mechanisms.length > 0 && !mechanisms.includes(wanted.toUpperCase());
  if (event.reason === 'unsupported_mechanism' || notOffered) {
    const instead = mechanisms?.length ? `; it offers ${mechanisms.join(', ')}` : '';
    return `SASL authentication failed (908): the server does not offer ${wanted}${instead}`;
  }
  const numeric = SASL_FAILURE_NUMERICS[event.reason] ?? event.reason;
  return `SASL authentication failed (${numeric})${event.message ? `: ${event.message}` : ''}`;
}

/** A 906 (SASL aborted) line from the server (as irc-framework's `raw` gives it, CR LF kept) as a `sasl failed` event, else undefined. */
export function saslAbortedLine(line: string): SaslFailureEvent | undefined {
  // [@tags] [:prefix] 906 <nick> :<text>
  const match = /^(?:@\S+ +)?(?::\S+ +)?906(?: +[^:\s]\S*)*(?: +:(.*?))?\r?\n?$/.exec(line);
  if (!match) return undefined;
  return { reason: 'aborted', ...(match[1] ? { message: match[1] } : {}) };
}
