/** SASL failures as the reason an operator reads: the numeric, the server's text, and the mechanisms offered. */
import { describe, expect, it } from 'vitest';
import { saslAbortedLine, saslFailureReason } from '../../src/irc-service/sasl-failures.ts';

describe('saslFailureReason', () => {
  it.each([
    ['fail', 'Invalid account credentials', 'SASL authentication failed (904): Invalid account credentials'],
    ['too_long', 'SASL message too long', 'SASL authentication failed (905): SASL message too long'],
    ['aborted', 'SASL authentication aborted', 'SASL authentication failed (906): SASL authentication aborted'],
    [
      'nick_locked',
      'You must use a nick assigned to you',
      'SASL authentication failed (902): You must use a nick assigned to you',
    ],
  ])('%s: the numeric and the server text', (reason, message, expected) => {
    expect(saslFailureReason({ reason, message }, 'PLAIN')).toBe(expected);
  });

  it('a mechanism the server does not offer (its CAP value) names the ones it does', () => {
    expect(saslFailureReason({ reason: 'unsupported_mechanism' }, 'EXTERNAL', 'PLAIN,SCRAM-SHA-256')).toBe(
      'SASL authentication failed (908): the server does not offer EXTERNAL; it offers PLAIN, SCRAM-SHA-256',
    );
  });

  it('a 904 after a 908 that does not list the mechanism is the 908', () => {
    expect(saslFailureReason({ reason: 'fail', message: 'SASL authentication failed' }, 'EXTERNAL', 'PLAIN')).toBe(
      'SASL authentication failed (908): the server does not offer EXTERNAL; it offers PLAIN',
    );
  });

  it('a 904 after a 908 that lists the mechanism is the 904', () => {
    expect(saslFailureReason({ reason: 'fail', message: 'Bad password' }, 'PLAIN', 'PLAIN,EXTERNAL')).toBe(
      'SASL authentication failed (904): Bad password',
    );
  });

  it('no SASL at all says so', () => {
    expect(saslFailureReason({ reason: 'capability_missing' }, 'PLAIN')).toBe(
      'SASL authentication failed: the server does not offer SASL',
    );
  });
});

describe('saslAbortedLine', () => {
  it.each([
    [':irc.test 906 tester :SASL authentication aborted', 'SASL authentication aborted'],
    [':irc.test 906 tester :SASL authentication aborted\r\n', 'SASL authentication aborted'],
    ['@time=2026-01-01T00:00:00Z :irc.test 906 * :Aborted', 'Aborted'],
  ])('reads %j', (line, message) => {
    expect(saslAbortedLine(line)).toEqual({ reason: 'aborted', message });
  });

  it.each([
    ':irc.test 904 tester :SASL authentication failed',
    ':irc.test PRIVMSG #c :906 is a number',
    ':irc.test 001 tester :Welcome 906',
  ])('ignores %j', (line) => {
    expect(saslAbortedLine(line)).toBeUndefined();
  });
});
