import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectObserver, type IrcObserver } from '../support/irc-observer.ts';
import { startIrcServiceProcess } from '../support/irc-service-process.ts';
import { type Ngircd, startNgircd } from '../support/ngircd.ts';
import { eventually, type RunningProcess } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { openSse } from '../support/sse-client.ts';

const TOKEN = 'process-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

/** `npm run start:irc` as a real process: it serves, connects, and on SIGTERM says QUIT and exits in time. */
describe.skipIf(lacks('ngircd'))('IRC service process', () => {
  let ircd: Ngircd;
  let service: RunningProcess;
  let url: string;
  const observers: IrcObserver[] = [];

  beforeEach(async () => {
    ircd = await startNgircd();
    ({ service, url } = await startIrcServiceProcess(TOKEN));
  });

  afterEach(async () => {
    for (const observer of observers.splice(0)) observer.close();
    await service.kill();
    await ircd.dispose();
  });

  async function connectToChannel(serverId: number, nickname: string): Promise<IrcObserver> {
    const observer = await connectObserver(ircd, `watcher${serverId}`);
    observers.push(observer);
    await observer.join('#lobby');
    const response = await fetch(`${url}/internal/irc/connections/${serverId}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ host: ircd.host, port: ircd.port, nickname, channels: ['#lobby'] }),
    });
    expect(response.status).toBe(202);
    await observer.waitForLine(new RegExp(`^:${nickname}!\\S+ JOIN :?#lobby`, 'i'));
    return observer;
  }

  it('sends QUIT on every connection and exits on SIGTERM within 5 s', async () => {
    const first = await connectToChannel(1, 'svc1');
    const second = await connectToChannel(2, 'svc2');
    await eventually(async () => {
      const response = await fetch(`${url}/internal/irc/status`, { headers: auth });
      const { connections } = (await response.json()) as { connections: number[] };
      return JSON.stringify(connections) === '[1,2]';
    });

    const stream = await openSse(`${url}/internal/irc/events`, auth);

    const signalled = Date.now();
    service.child.kill('SIGTERM');
    const code = await service.exited;

    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(code).toBe(0);
    await first.waitForLine(/^:svc1!\S+ QUIT /);
    await second.waitForLine(/^:svc2!\S+ QUIT /);
    // followers hear about the disconnects before their stream ends
    await stream.waitFor(
      (event) => event.type === 'disconnected' && (event.data as { serverId: number }).serverId === 2,
    );
    stream.close();
  });

  it('exits within 5 s even when the network hangs and never answers QUIT', async () => {
    await connectToChannel(1, 'svc1');
    await ircd.kill('SIGSTOP');

    const signalled = Date.now();
    service.child.kill('SIGTERM');
    const code = await service.exited;

    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(code).toBe(0);
  });
});
