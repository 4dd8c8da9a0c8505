/**
 * Taking the wanted nickname back through MONITOR, against a scripted server that offers it (the real server that
 * does, InspIRCd, is in irc-networks.e2e.test.ts; this one also checks that no ISON is asked):
 * registered under a fallback, the connection watches the wanted nickname and takes it the moment the server
 * says it went offline, without polling ISON. Without MONITOR, the holder seen quitting in a shared channel (a
 * drain's old connection) frees it as well.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessIrcService, ircEvent, startInProcessIrcService } from '../support/in-process-irc-service.ts';
import { type ScriptedClient, type ScriptedIrcServer, startScriptedIrcServer } from '../support/scripted-irc-server.ts';

describe('IRC service on a network that offers MONITOR', () => {
  let ircd: ScriptedIrcServer | undefined;
  let service: InProcessIrcService | undefined;

  afterEach(async () => {
    await service?.close();
    await ircd?.dispose();
  });

  it('registers as a fallback, then takes the wanted nickname when MONITOR says it went offline', async () => {
    let connection: ScriptedClient | undefined;
    ircd = await startScriptedIrcServer((line, client) => {
      connection = client;
      if (line === 'NICK keeper' && !ircd?.lines.some((seen) => seen.startsWith('MONITOR'))) {
        client.send(':irc.scripted 433 * keeper :Nickname is already in use');
      } else if (line === 'NICK keeper_') {
        client.send(
          ':irc.scripted 001 keeper_ :Welcome',
          ':irc.scripted 005 keeper_ NICKLEN=9 MONITOR=100 CASEMAPPING=rfc1459 :are supported by this server',
          ':irc.scripted 422 keeper_ :MOTD File is missing',
        );
      } else if (line === 'MONITOR + keeper') {
        client.send(':irc.scripted 730 keeper_ :keeper!k@elsewhere');
      } else if (line === 'NICK keeper') {
        client.send(':keeper_!k@127.0.0.1 NICK :keeper');
      }
    });
    service = await startInProcessIrcService({ client: { nickRegainIntervalMs: 50 } });
    await service.request('PUT', '/internal/irc/connections/4', {
      host: ircd.host,
      port: ircd.port,
      nickname: 'keeper',
    });
    await service.stream.waitFor(ircEvent('connected', { serverId: 4, nickname: 'keeper_' }));
    await expect.poll(() => ircd?.lines.includes('MONITOR + keeper')).toBe(true);

    connection?.send(':irc.scripted 731 keeper_ :keeper');

    await service.stream.waitFor(ircEvent('nick-changed', { serverId: 4, nickname: 'keeper_', newNickname: 'keeper' }));
    expect(ircd.lines.filter((line) => line.startsWith('ISON'))).toEqual([]);
    await expect.poll(() => ircd?.lines.includes('MONITOR - keeper')).toBe(true);
  });

  it('without MONITOR, takes the wanted nickname the moment its holder quits a channel they share, not at the next ISON', async () => {
    let connection: ScriptedClient | undefined;
    ircd = await startScriptedIrcServer((line, client) => {
      connection = client;
      if (line === 'NICK mover' && !ircd?.lines.some((seen) => seen.startsWith('JOIN'))) {
        client.send(':irc.scripted 433 * mover :Nickname is already in use');
      } else if (line === 'NICK mover_') {
        client.send(
          ':irc.scripted 001 mover_ :Welcome',
          ':irc.scripted 005 mover_ NICKLEN=9 CASEMAPPING=rfc1459 :are supported by this server',
          ':irc.scripted 422 mover_ :MOTD File is missing',
        );
      } else if (line.startsWith('JOIN')) {
        client.send(
          ':mover_!m@127.0.0.1 JOIN #shared',
          ':irc.scripted 353 mover_ = #shared :mover_ mover',
          ':irc.scripted 366 mover_ #shared :End',
        );
      } else if (line === 'NICK mover') {
        client.send(':mover_!m@127.0.0.1 NICK :mover');
      }
    });
    // an hour between two ISON: only the quit can free the nickname within the test
    service = await startInProcessIrcService({ client: { nickRegainIntervalMs: 3_600_000 } });
    await service.request('PUT', '/internal/irc/connections/5', {
      host: ircd.host,
      port: ircd.port,
      nickname: 'mover',
      channels: ['#shared'],
    });
    await service.stream.waitFor(ircEvent('joined', { serverId: 5, channel: '#shared' }));

    connection?.send(':mover!m@elsewhere QUIT :irc-supervisor: disconnecting');

    await service.stream.waitFor(ircEvent('nick-changed', { serverId: 5, nickname: 'mover_', newNickname: 'mover' }));
    expect(ircd.lines.filter((line) => line.startsWith('ISON'))).toEqual([]);
  });
});
