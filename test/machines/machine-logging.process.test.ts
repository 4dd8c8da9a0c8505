import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lacks } from '../support/requirements.ts';
import { type System, startSystem } from '../support/system.ts';

/**
 * DEBUG_MACHINES=1 in the real processes: the IRC service logs every transition of each connection's
 * machine with its server id, the web side every transition of its health supervisor.
 */
describe.skipIf(lacks('ngircd'))('DEBUG_MACHINES=1', () => {
  let system: System;

  beforeAll(async () => {
    system = await startSystem({
      env: { DEBUG_MACHINES: '1', LOG_LEVEL: 'info', HEALTH_CHECK_ENABLED: 'true', HEALTH_CHECK_INTERVAL_MS: '60000' },
    });
  });

  afterAll(async () => {
    await system?.dispose();
  });

  it('the IRC service logs the transitions of a connection with its server id', async () => {
    const response = await system.internalFetch(`${system.irc.url}/internal/irc/connections/42`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ host: system.ircd.host, port: system.ircd.port, nickname: 'traced42', channels: [] }),
    });
    expect(response.status).toBe(202);

    const irc = system.irc.process;
    if (!irc) throw new Error('the IRC service is not running');
    const [line] = await irc.waitForOutput(/^.*"msg":"socket\.connecting --REGISTERED--> socket\.registered".*$/m);
    expect(JSON.parse(line)).toMatchObject({
      machine: 'ircConnection',
      serverId: 42,
      from: 'socket.connecting',
      event: 'REGISTERED',
      to: 'socket.registered',
    });
    // the first snapshot too, so a trace starts where the actor did
    expect(irc.output()).toMatch(/"serverId":42,[^\n]*"msg":"\(start\) --> socket\.connecting"/);
  });

  it('the web side logs the transitions of its health supervisor', async () => {
    const web = system.web.process;
    if (!web) throw new Error('the web side is not running');
    const [line] = await web.waitForOutput(/^.*"msg":"checking --(done|error)\(check\)--> (healthy|degraded)".*$/m);
    expect(JSON.parse(line)).toMatchObject({ machine: 'healthSupervisor', from: 'checking' });
  });
});
