import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startIrcServiceProcess } from '../support/irc-service-process.ts';
import { type Ngircd, startNgircd } from '../support/ngircd.ts';
import type { RunningProcess } from '../support/process.ts';
import { promtoolProblems, samples, sampleValue, scrapeUntil } from '../support/prometheus.ts';
import { lacks } from '../support/requirements.ts';

const TOKEN = 'process-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}` };

/** The IRC service's /metrics as a real process sees a real network (ngircd) register, then die or hang. */
describe.skipIf(lacks('ngircd', 'promtool'))(
  'IRC service metrics (real process, real ngircd)',
  { timeout: 60_000 },
  () => {
    let ircd: Ngircd;
    let service: RunningProcess;
    let url: string;

    beforeEach(async () => {
      ircd = await startNgircd();
      // retries every half second at most, so attempts while the network is down come quickly; a
      // silent network is noticed after a second
      ({ service, url } = await startIrcServiceProcess(TOKEN, {
        IRC_RECONNECT_MAX_MS: '500',
        IRC_PING_INTERVAL_MS: '500',
        IRC_PING_TIMEOUT_MS: '1000',
      }));
    });

    afterEach(async () => {
      await service.kill();
      await ircd.dispose();
    });

    async function scrape(): Promise<string> {
      const response = await fetch(`${url}/metrics`, { headers: auth });
      expect(response.status).toBe(200);
      return response.text();
    }

    const total = (text: string, name: string) =>
      samples(text)
        .filter((sample) => sample.name === name)
        .reduce((sum, sample) => sum + sample.value, 0);

    /** Asks for a connection to ngircd and answers the exposition once it is registered. */
    async function registeredConnection(): Promise<string> {
      const response = await fetch(`${url}/internal/irc/connections/1`, {
        method: 'PUT',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ host: ircd.host, port: ircd.port, nickname: 'metered' }),
      });
      expect(response.status).toBe(202);
      return scrapeUntil(
        scrape,
        (text) => sampleValue(text, 'irc_supervisor_connections', { state: 'socket.registered' }) === 1,
      );
    }

    it('counts a registration, then the disconnect and the failed attempts while the network is dead', async () => {
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      const registered = await registeredConnection();
      expect(sampleValue(registered, 'irc_supervisor_connection_attempts_total', { outcome: 'registered' })).toBe(1);
      expect(sampleValue(registered, 'irc_supervisor_registration_seconds_count')).toBe(1);
      expect(total(registered, 'irc_supervisor_disconnects_total')).toBe(0);
      expect(await promtoolProblems(registered)).toEqual([]);

      await ircd.kill('SIGKILL');

      // the socket's end is counted, then each refused retry while ngircd stays dead
      const down = await scrapeUntil(
        scrape,
        (text) => (sampleValue(text, 'irc_supervisor_connection_attempts_total', { outcome: 'failed' }) ?? 0) >= 2,
        10_000,
      );
      expect(sampleValue(down, 'irc_supervisor_connections', { state: 'socket.registered' })).toBe(0);
      // the registered socket ended as the kernel closed it (a clean close or a reset), each retry was refused
      const ended = ['server_closed', 'socket_error']
        .map((reason) => sampleValue(down, 'irc_supervisor_disconnects_total', { reason }) ?? 0)
        .reduce((sum, count) => sum + count, 0);
      expect(ended).toBeGreaterThanOrEqual(3);
      expect(sampleValue(down, 'irc_supervisor_disconnects_total', { reason: 'quit' })).toBe(0);
      expect(sampleValue(down, 'irc_supervisor_connection_attempts_total', { outcome: 'registered' })).toBe(1);
      expect(await promtoolProblems(down)).toEqual([]);
    });

    it('counts a network that hangs as a ping timeout', async () => {
      await registeredConnection();

      await ircd.kill('SIGSTOP');

      const hung = await scrapeUntil(
        scrape,
        (text) => sampleValue(text, 'irc_supervisor_disconnects_total', { reason: 'ping_timeout' }) === 1,
        10_000,
      );
      expect(sampleValue(hung, 'irc_supervisor_connections', { state: 'socket.registered' })).toBe(0);
      expect(total(hung, 'irc_supervisor_disconnects_total')).toBe(1);
    });
  },
);
