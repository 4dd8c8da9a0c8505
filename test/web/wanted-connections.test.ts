import { HttpResponse, http } from 'msw';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { WantedConnections } from '../../src/web/health/wanted-connections.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { IRC_SERVICE_URL, TOKEN } from './fixtures.ts';

const CONNECTIONS = `${IRC_SERVICE_URL}/internal/irc/connections/:serverId`;

describe('WantedConnections', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let close: () => Promise<void>;
  let requests: string[];

  beforeAll(async () => {
    ({ db, orm, close } = await createTestOrm());
  });
  afterAll(() => close());
  beforeEach(async () => {
    await db.query('delete from servers');
    requests = [];
    mswServer.use(
      http.put(CONNECTIONS, async ({ params, request }) => {
        const body = (await request.json()) as { host: string };
        requests.push(`PUT ${params.serverId} ${body.host}`);
        return HttpResponse.json({ serverId: Number(params.serverId), outcome: 'started' }, { status: 202 });
      }),
      http.delete(CONNECTIONS, ({ params }) => {
        requests.push(`DELETE ${params.serverId}`);
        return HttpResponse.json({ serverId: Number(params.serverId) }, { status: 202 });
      }),
    );
  });

  async function server(host: string, autoconnect: boolean): Promise<number> {
    const [row] = await db.query<{ id: number }>(
      `insert into servers (name, host, port, nickname, autoconnect) values ($1, $1, 6667, 'me', $2) returning id`,
      [host, autoconnect],
    );
    return row!.id;
  }

  function wantedConnections(wait: (ms: number) => Promise<void> = async () => {}) {
    return new WantedConnections({
      orm,
      ircService: new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 2_000 }),
      staggerMs: 250,
      wait,
    });
  }

  it('asks again for wanted servers that are not live, never for those the operator disconnected', async () => {
    const wantedDown = await server('irc.a.example', true);
    const wantedLive = await server('irc.a.example', true);
    const disconnectedByOperator = await server('irc.a.example', false);
    const wanted = wantedConnections();

    const plan = await wanted.reconcile([wantedLive]);
    await wanted.settled();

    expect(plan).toEqual({ restoring: [wantedDown], closing: [] });
    expect(requests).toEqual([`PUT ${wantedDown} irc.a.example`]);
    expect(requests.join()).not.toContain(`PUT ${disconnectedByOperator}`);
  });

  it('paces connects to one host and lets different hosts go side by side', async () => {
    const a1 = await server('irc.a.example', true);
    const a2 = await server('irc.a.example', true);
    const a3 = await server('irc.a.example', true);
    const b1 = await server('irc.b.example', true);
    const waits: string[] = [];
    const wanted = wantedConnections(async (ms) => {
      waits.push(`${ms} after ${requests.at(-1)}`);
    });

    await wanted.reconcile([]);
    await wanted.settled();

    expect(requests.filter((line) => line.endsWith('irc.a.example'))).toEqual([
      `PUT ${a1} irc.a.example`,
      `PUT ${a2} irc.a.example`,
      `PUT ${a3} irc.a.example`,
    ]);
    expect(requests).toContain(`PUT ${b1} irc.b.example`);
    // two pauses, both on host a: the first connect of each host goes at once
    expect(waits).toHaveLength(2);
    expect(waits.every((line) => line.startsWith('250 after'))).toBe(true);
  });

  it('lets an operator disconnect that comes in meanwhile win', async () => {
    const first = await server('irc.a.example', true);
    const second = await server('irc.a.example', true);
    const wanted = wantedConnections(async () => {
      // the operator clicks Disconnect on the second server while the first one connects
      await db.query('update servers set autoconnect = false where id = $1', [second]);
    });

    await wanted.reconcile([]);
    await wanted.settled();

    expect(requests).toEqual([`PUT ${first} irc.a.example`]);
  });

  it('closes live connections of servers the database does not know', async () => {
    const known = await server('irc.a.example', false);

    const plan = await wantedConnections().reconcile([known, 990_001]);

    expect(plan.closing).toEqual([990_001]);
    await expect.poll(() => requests).toEqual(['DELETE 990001']);
  });

  it('does not plan a server twice while its connect is pending', async () => {
    const id = await server('irc.a.example', true);
    let release: (() => void) | undefined;
    mswServer.use(
      http.put(CONNECTIONS, async () => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        requests.push(`PUT ${id}`);
        return HttpResponse.json({}, { status: 202 });
      }),
    );
    const wanted = wantedConnections();

    const first = await wanted.reconcile([]);
    const second = await wanted.reconcile([]);
    await expect.poll(() => release).toBeTypeOf('function');
    release?.();
    await wanted.settled();

    expect(first.restoring).toEqual([id]);
    expect(second.restoring).toEqual([]);
    expect(requests).toEqual([`PUT ${id}`]);
  });

  it('survives an unreachable IRC service; the next check plans the server again', async () => {
    const id = await server('irc.a.example', true);
    mswServer.use(http.put(CONNECTIONS, () => HttpResponse.error()));
    const wanted = wantedConnections();

    await wanted.reconcile([]);
    await wanted.settled();
    const again = await wanted.reconcile([]);
    await wanted.settled();

    expect(again.restoring).toEqual([id]);
  });
});
