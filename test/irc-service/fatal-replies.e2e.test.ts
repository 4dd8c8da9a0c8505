/**
 * Fatal replies end the loop: a connection banned (465) or K-lined (an ERROR) by a scripted IRC server is
 * `failed` with the reason, listed as failed in the status, and never reconnects by itself; an operator's
 * Connect (a PUT again) tries exactly once more.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessIrcService, ircEvent, startInProcessIrcService } from '../support/in-process-irc-service.ts';
import { type ScriptedIrcServer, startScriptedIrcServer } from '../support/scripted-irc-server.ts';

/** Long enough for several reconnects at the test backoff (100 ms, capped at 400 ms) had it not failed. */
const QUIET_WINDOW_MS = 1_500;

describe('IRC service against a server that refuses the connection for good', () => {
  let ircd: ScriptedIrcServer | undefined;
  let service: InProcessIrcService | undefined;

  afterEach(async () => {
    await service?.close();
    await ircd?.dispose();
  });

  const refusals = [
    {
      name: '465 banned',
      reply: (nick: string) => [`:irc.scripted 465 ${nick} :You are banned from this server- spam`],
      reason: 'banned by the server (465): You are banned from this server- spam',
    },
    {
      name: 'a K-line ERROR',
      reply: () => ['ERROR :Closing Link: 127.0.0.1 (K-lined)'],
      reason: 'banned by the server: Closing Link: 127.0.0.1 (K-lined)',
    },
  ];

  it.each(refusals)(
    '$name: failed with the reason, no second connect, one more on a PUT',
    async ({ reply, reason }) => {
      // Arrange: a server that answers every registration with the refusal, then closes
      ircd = await startScriptedIrcServer((line, client) => {
        if (line.startsWith('USER ')) client.close(reply('banme'));
      });
      service = await startInProcessIrcService();
      const body = { host: ircd.host, port: ircd.port, nickname: 'banme' };

      // Act
      await service.request('PUT', '/internal/irc/connections/5', body);

      // Assert: the failed event with the reason, the status lists it as failed and not as registered
      const failed = await service.stream.waitFor(ircEvent('failed', { serverId: 5 }));
      expect(failed.data).toEqual({ serverId: 5, reason, at: expect.any(String) });
      expect((await service.request('GET', '/internal/irc/status')).body).toEqual({ connections: [], failed: [5] });
      // nobody reconnects: the server sees no second socket while several backoffs would have passed
      await expect(ircd.waitForAccepted(2, QUIET_WINDOW_MS)).rejects.toThrow(/accepted 1 sockets/);
      expect(service.stream.events.filter((event) => event.type === 'reconnecting')).toEqual([]);

      // an operator's Connect: exactly one more attempt, which fails the same way
      const answer = await service.request('PUT', '/internal/irc/connections/5', body);
      expect(answer).toEqual({ status: 202, body: { serverId: 5, outcome: 'retried' } });
      await ircd.waitForAccepted(2);
      await service.stream.waitFor((event) => ircEvent('failed', { serverId: 5 })(event) && event !== failed);
      await expect(ircd.waitForAccepted(3, QUIET_WINDOW_MS)).rejects.toThrow(/accepted 2 sockets/);
    },
  );

  it('every nickname refused (432, 433, 436): fallbacks that fit, then failed with the list tried', async () => {
    // a network whose NICKLEN is 7 and where every nickname is taken: too long is 432, `…_` collides (436), else 433
    ircd = await startScriptedIrcServer((line, client) => {
      const nick = /^NICK (\S+)/.exec(line)?.[1];
      if (nick === undefined) return;
      const numeric = nick.length > 7 ? '432' : nick.endsWith('_') ? '436' : '433';
      client.send(`:irc.scripted ${numeric} * ${nick} :Nickname refused`);
    });
    service = await startInProcessIrcService();

    await service.request('PUT', '/internal/irc/connections/7', {
      host: ircd.host,
      port: ircd.port,
      nickname: 'sevenxx',
    });

    const failed = await service.stream.waitFor(ircEvent('failed', { serverId: 7 }));
    const reason = (failed.data as { reason: string }).reason;
    expect(reason).toMatch(/^no acceptable nickname: tried sevenxx, sevenxx_, sevenx_, seven_1, seven_2, /);
    const tried = ircd.lines.filter((line) => line.startsWith('NICK ')).map((line) => line.slice(5));
    expect(tried).toHaveLength(11);
    expect(tried.slice(2).every((nick) => nick.length <= 7)).toBe(true);
    await expect(ircd.waitForAccepted(2, QUIET_WINDOW_MS)).rejects.toThrow(/accepted 1 sockets/);
  });

  it('a 464 (password refused) fails too, and new settings try at once', async () => {
    ircd = await startScriptedIrcServer((line, client) => {
      if (line.startsWith('USER ') && !ircd?.lines.includes('PASS right-password')) {
        client.close([':irc.scripted 464 pw :Password incorrect', 'ERROR :Closing Link: pw (Bad Password)']);
      } else if (line.startsWith('USER ')) {
        client.send(':irc.scripted 001 pw :Welcome', ':irc.scripted 422 pw :MOTD File is missing');
      }
    });
    service = await startInProcessIrcService();
    const body = { host: ircd.host, port: ircd.port, nickname: 'pw', password: 'wrong-password' };

    await service.request('PUT', '/internal/irc/connections/6', body);
    const failed = await service.stream.waitFor(ircEvent('failed', { serverId: 6 }));
    expect((failed.data as { reason: string }).reason).toBe('the server refused the password (464)');

    await service.request('PUT', '/internal/irc/connections/6', { ...body, password: 'right-password' });

    await service.stream.waitFor(ircEvent('connected', { serverId: 6, nickname: 'pw' }));
    expect((await service.request('GET', '/internal/irc/status')).body).toEqual({ connections: [6] });
  });
});
