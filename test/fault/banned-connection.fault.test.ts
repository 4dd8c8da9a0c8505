/**
 * A banned connection through the whole system (real web and IRC service processes, real PostgreSQL): the server
 * shows `failure` in the API, stays disconnected, is not asked for again by check after check (the reconciler
 * would otherwise reconnect a wanted server), and the operator's Connect tries exactly once more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/process.ts';
import { lacks } from '../support/requirements.ts';
import { type ScriptedIrcServer, startScriptedIrcServer } from '../support/scripted-irc-server.ts';
import { type System, startSystem } from '../support/system.ts';
import { type WebApi, webApi } from '../support/web-api.ts';

interface ServerFailureView {
  id: number;
  connected: boolean;
  failure: { message: string; at: string } | null;
}

describe.skipIf(lacks('ngircd'))('fault: a server that bans the connection', { timeout: 60_000 }, () => {
  let system: System;
  let api: WebApi;
  let banning: ScriptedIrcServer;

  beforeAll(async () => {
    banning = await startScriptedIrcServer((line, client) => {
      if (line.startsWith('USER ')) client.close(['ERROR :Closing Link: 127.0.0.1 (K-lined: no bots here)']);
    });
    system = await startSystem();
    api = webApi(system.web.url);
    await api.settled();
  });
  afterAll(async () => {
    await system?.dispose();
    await banning?.dispose();
  });

  async function server(id: number): Promise<ServerFailureView> {
    const response = await fetch(`${system.web.url}/api/servers/${id}`);
    return (await response.json()) as ServerFailureView;
  }

  it('shows the failure, is not re-asked by the checks, and Connect tries once more', async () => {
    const id = await api.createServer({ host: banning.host, port: banning.port, nickname: 'banme' });

    await api.connect(id);

    const failed = await eventually(async () => {
      const view = await server(id);
      return view.failure ? view : undefined;
    }, 10_000);
    expect(failed).toMatchObject({
      connected: false,
      failure: { message: 'banned by the server: Closing Link: 127.0.0.1 (K-lined: no bots here)' },
    });
    // check after check: the IRC service lists it as failed, so the wanted server is not restored
    for (let check = 0; check < 3; check += 1) {
      const report = await api.checkNow();
      expect(report.restoring).toEqual([]);
    }
    expect(banning.accepted).toBe(1);

    await api.connect(id);

    await banning.waitForAccepted(2);
    const firstAt = failed?.failure?.at;
    // Connect cleared the failure; the new attempt records a new one
    await eventually(async () => {
      const { failure } = await server(id);
      return failure !== null && failure.at !== firstAt;
    }, 10_000);
    await api.checkNow();
    expect(banning.accepted).toBe(2);
  });
});
