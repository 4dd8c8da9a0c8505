/**
 * A real server's refusals end the loop, on ngircd and on InspIRCd, each in its own words:
 * - an IRC operator K-lines the registered connection (ngircd `ERROR :K-Line by …`, InspIRCd `465` then
 *   `ERROR :Closing link: … [K-lined: …]`): `failed` with the server's reason, no reconnect by itself, and an
 *   operator's Connect tries exactly once more, which the ban refuses again;
 * - a wrong server password, which neither answers with a 464 (ngircd `ERROR :Access denied: Bad password?`,
 *   InspIRCd `ERROR :Closing link: … [Access denied by configuration]`): `failed`, no reconnect, and the right
 *   password registers at once.
 */
import { afterEach, expect, it } from 'vitest';
import { type InProcessIrcService, ircEvent, startInProcessIrcService } from '../support/in-process-irc-service.ts';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { describeEachIrcServer } from '../support/irc-servers.ts';
import type { IrcServerProcess } from '../support/ircd-process.ts';
import type { SseEvent } from '../support/sse-client.ts';

/** Long enough for several reconnects at the test backoff (100 ms, capped at 400 ms) had it not failed. */
const QUIET_WINDOW_MS = 1_500;

const OPERATOR = { name: 'tester', password: 'oper-secret' };

describeEachIrcServer('IRC service refused by a real server', { timeout: 30_000 }, (server) => {
  let ircd: IrcServerProcess | undefined;
  let service: InProcessIrcService | undefined;
  let oper: IrcObserver | undefined;

  /** No new socket for the connection after `failed` while several backoffs would have passed, and no `reconnecting`. */
  async function expectNoReconnect(running: InProcessIrcService, failed: SseEvent) {
    const { serverId } = failed.data as { serverId: number };
    const connecting = (event: SseEvent) =>
      running.stream.events.indexOf(event) > running.stream.events.indexOf(failed) &&
      ircEvent('connection-state', { serverId, state: 'socket.connecting' })(event);
    await expect(running.stream.waitFor(connecting, QUIET_WINDOW_MS)).rejects.toThrow(/within/);
    expect(running.stream.events.filter((event) => event.type === 'reconnecting')).toEqual([]);
  }

  afterEach(async () => {
    oper?.close();
    await service?.close();
    await ircd?.dispose();
  });

  it('a K-line: failed with the server reason, no reconnect, one more try on a PUT that the ban refuses', async () => {
    ircd = await server.start({ operator: OPERATOR });
    service = await startInProcessIrcService({ timing: server.timing });
    const body = { host: ircd.host, port: ircd.port, nickname: 'banme' };
    await service.request('PUT', '/internal/irc/connections/8', body);
    await service.stream.waitFor(ircEvent('connected', { serverId: 8, nickname: 'banme' }));
    oper = await connectObserver(ircd, 'oper');
    oper.send(`OPER ${OPERATOR.name} ${OPERATOR.password}`);
    await oper.waitForLine(/ 381 oper /);

    oper.send('KLINE banme@* 3600 :spamming');

    const failed = await service.stream.waitFor(ircEvent('failed', { serverId: 8 }));
    expect((failed.data as { reason: string }).reason).toMatch(/^banned by the server\b.*\bK-Line.*spamming/i);
    expect((await service.request('GET', '/internal/irc/status')).body).toEqual({ connections: [], failed: [8] });
    const after = (event: SseEvent) => service!.stream.events.indexOf(event) > service!.stream.events.indexOf(failed);
    await expectNoReconnect(service, failed);

    // an operator's Connect: one more attempt, refused by the ban at registration, then failed again
    const answer = await service.request('PUT', '/internal/irc/connections/8', body);
    expect(answer).toEqual({ status: 202, body: { serverId: 8, outcome: 'retried' } });
    const again = await service.stream.waitFor((event) => ircEvent('failed', { serverId: 8 })(event) && after(event));
    expect((again.data as { reason: string }).reason).toMatch(/^banned by the server\b.*spamming/i);
    expect(service.stream.events.filter((event) => event.type === 'connected')).toHaveLength(1);
  });

  it('a wrong server password: failed with the server words, no reconnect; the right password registers', async () => {
    ircd = await server.start({ password: 'right-password' });
    service = await startInProcessIrcService({ timing: server.timing });
    const body = { host: ircd.host, port: ircd.port, nickname: 'pw', password: 'wrong-password' };

    await service.request('PUT', '/internal/irc/connections/9', body);

    const failed = await service.stream.waitFor(ircEvent('failed', { serverId: 9 }));
    expect((failed.data as { reason: string }).reason).toMatch(/^the server refused the connection: .*access denied/i);
    expect((await service.request('GET', '/internal/irc/status')).body).toEqual({ connections: [], failed: [9] });
    await expectNoReconnect(service, failed);

    await service.request('PUT', '/internal/irc/connections/9', { ...body, password: 'right-password' });

    await service.stream.waitFor(ircEvent('connected', { serverId: 9, nickname: 'pw' }));
    expect(await service.status()).toEqual([9]);
  });
});
