import { HttpResponse, http } from 'msw';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { InternalApiClient } from '../../src/web/irc-service/internal-api-client.ts';
import { WantedConnections } from '../../src/web/servers/wanted-connections.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { mswServer } from '../support/msw.ts';
import { IRC_SERVICE_URL, TOKEN } from './fixtures.ts';

const CONNECTIONS = `${IRC_SERVICE_URL}/internal/irc/connections/:serverId`;
const CHANNELS = `${CONNECTIONS}/channels`;
const CHANNEL = `${CONNECTIONS}/channels/:name`;

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
      http.post(CHANNELS, async ({ params, request }) => {
        const body = (await request.json()) as { name: string };
        requests.push(`JOIN ${params.serverId} ${body.name}`);
        return HttpResponse.json({}, { status: 202 });
      }),
      http.delete(CHANNEL, ({ params }) => {
        requests.push(`PART ${params.serverId} ${params.name}`);
        return HttpResponse.json({}, { status: 202 });
      }),
    );
  });

  async function channel(serverId: number, name: string, state: { wanted: boolean; joined: boolean }) {
    await db.query('insert into channels (server_id, name, wanted, joined) values ($1, $2, $3, $4)', [
      serverId,
      name,
      state.wanted,
      state.joined,
    ]);
  }

  async function channelRows(serverId: number) {
    return db.query('select name, wanted, joined from channels where server_id = $1 order by name', [serverId]);
  }

  async function pending(serverId: number) {
    const [row] = await db.query<{ pending_reason: string | null }>(
      'select pending_reason from servers where id = $1',
      [serverId],
    );
    return row!.pending_reason;
  }

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

    expect(plan).toEqual({ restoring: [wantedDown], closing: [], joining: [], parting: [] });
    expect(requests).toEqual([`PUT ${wantedDown} irc.a.example`]);
    expect(requests.join()).not.toContain(`PUT ${disconnectedByOperator}`);
  });

  it('does not ask again for a wanted server whose connection failed (a ban), and closes a failed one no longer wanted', async () => {
    const banned = await server('irc.a.example', true);
    const failedUnwanted = await server('irc.a.example', false);
    const wanted = wantedConnections();

    // check after check: the failed connection is never asked for again
    for (let check = 0; check < 3; check += 1) {
      const plan = await wanted.reconcile([], [banned, failedUnwanted]);
      await wanted.settled();
      expect(plan.restoring).toEqual([]);
    }

    expect(requests.filter((line) => line.startsWith('PUT'))).toEqual([]);
    expect(requests).toContain(`DELETE ${failedUnwanted}`);
  });

  it('after an IRC service restart (no failed list), a server whose failure is recorded is still not asked for', async () => {
    const banned = await server('irc.a.example', true);
    const fine = await server('irc.b.example', true);
    await db.query(
      `update servers set failure_reason = 'banned by the server (465)', failed_at = now() where id = $1`,
      [banned],
    );

    const wanted = wantedConnections();
    const plan = await wanted.reconcile([]);
    await wanted.settled();

    expect(plan.restoring).toEqual([fine]);
    expect(requests).toEqual([`PUT ${fine} irc.b.example`]);
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

  it("with no stagger, hands a host's servers over side by side, at most handoffsPerHost at once", async () => {
    const ids: number[] = [];
    for (let index = 0; index < 7; index += 1) ids.push(await server('irc.a.example', true));
    let inFlight = 0;
    let most = 0;
    const answered: Array<() => void> = [];
    mswServer.use(
      http.put(CONNECTIONS, async ({ params }) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        // held until the test answers: the hand-overs in flight stay visible
        await new Promise<void>((resolve) => answered.push(resolve));
        inFlight -= 1;
        requests.push(`PUT ${params.serverId}`);
        return HttpResponse.json({ serverId: Number(params.serverId), outcome: 'started' }, { status: 202 });
      }),
    );
    const waits: number[] = [];
    const wanted = new WantedConnections({
      orm,
      ircService: new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 2_000 }),
      staggerMs: 0,
      handoffsPerHost: 3,
      wait: async (ms) => {
        waits.push(ms);
      },
    });

    await wanted.reconcile([]);
    await expect.poll(() => inFlight).toBe(3);
    while (requests.length < ids.length) {
      answered.shift()?.();
      await expect.poll(() => answered.length > 0 || requests.length === ids.length).toBe(true);
    }
    await wanted.settled();

    expect(most).toBe(3);
    expect([...requests].sort()).toEqual(ids.map((id) => `PUT ${id}`).sort());
    expect(waits).toEqual([]);
  });

  it("with no stagger, reads a batch of a host's wishes, settings and channels in one select, and hands each lane-full over in one request", async () => {
    const ids: number[] = [];
    for (let index = 0; index < 6; index += 1) ids.push(await server('irc.a.example', true));
    await channel(ids[2]!, '#b', { wanted: true, joined: false });
    await channel(ids[2]!, '#a', { wanted: true, joined: false });
    await channel(ids[2]!, '#gone', { wanted: false, joined: false });
    const bodies = new Map<number, { host: string; channels: string[] }>();
    mswServer.use(
      http.put(CONNECTIONS, async ({ params, request }) => {
        bodies.set(Number(params.serverId), (await request.json()) as { host: string; channels: string[] });
        return HttpResponse.json({ serverId: Number(params.serverId), outcome: 'started' }, { status: 202 });
      }),
    );
    const statements: string[] = [];
    const knex = orm.em.getKnex();
    const record = (query: { sql: string }) => statements.push(query.sql);
    const wanted = new WantedConnections({
      orm,
      ircService: new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 2_000 }),
      staggerMs: 0,
      handoffsPerHost: 2,
    });

    const handOvers: number[] = [];
    const countBatch = ({ request }: { request: Request }) => {
      if (request.method === 'PUT' && request.url.endsWith('/internal/irc/connections')) handOvers.push(1);
    };
    mswServer.events.on('request:start', countBatch);
    knex.on('query', record);
    try {
      await wanted.reconcile([]);
      await wanted.settled();
    } finally {
      knex.off('query', record);
      mswServer.events.removeListener('request:start', countBatch);
    }

    expect([...bodies.keys()].sort()).toEqual([...ids].sort());
    // 6 servers, 2 lanes: three batch requests, not six
    expect(handOvers).toHaveLength(3);
    expect(bodies.get(ids[2]!)).toMatchObject({ host: 'irc.a.example', channels: ['#a', '#b'] });
    expect(bodies.get(ids[0]!)?.channels).toEqual([]);
    // the plan, then one read for the whole batch (2 lanes × 4): nothing per server before its PUT
    expect(statements.filter((sql) => sql.includes('from servers s where id = any'))).toHaveLength(1);
    expect(statements).toHaveLength(2);
  });

  it('an operator disconnect that comes in after the batch was read still wins: it runs after that restore', async () => {
    const first = await server('irc.a.example', true);
    const second = await server('irc.a.example', true);
    let release: (() => void) | undefined;
    mswServer.use(
      http.put(CONNECTIONS, async ({ params }) => {
        requests.push(`PUT ${params.serverId}`);
        if (Number(params.serverId) === first) await new Promise<void>((resolve) => (release = resolve));
        return HttpResponse.json({}, { status: 202 });
      }),
    );
    const wanted = new WantedConnections({
      orm,
      ircService: new InternalApiClient({ baseUrl: IRC_SERVICE_URL, token: TOKEN, timeoutMs: 2_000 }),
      staggerMs: 0,
      handoffsPerHost: 1,
    });

    await wanted.reconcile([]);
    // the batch (both servers) is read; the first one's PUT is on its way, the second waits for its turn
    await expect.poll(() => release).toBeTypeOf('function');
    await db.query('update servers set autoconnect = false where id = $1', [second]);
    void wanted.converge(second, { server: 'sync' });
    release?.();
    await wanted.settled();

    const last = requests.filter((request) => request.endsWith(` ${second}`)).at(-1);
    expect(last).toBe(`DELETE ${second}`);
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

  it('closes live connections that are not wanted, or whose server the database does not know', async () => {
    const notWanted = await server('irc.a.example', false);
    const wantedLive = await server('irc.a.example', true);

    const plan = await wantedConnections().reconcile([notWanted, wantedLive, 990_001]);

    expect(plan.closing).toEqual([notWanted, 990_001]);
    await expect.poll(() => [...requests].sort()).toEqual([`DELETE ${notWanted}`, 'DELETE 990001'].sort());
  });

  it('joins wanted channels and parts unwanted ones on live servers; parted rows go', async () => {
    const live = await server('irc.a.example', true);
    const down = await server('irc.b.example', false);
    await db.query('update servers set connected_at = now() where id = $1', [live]);
    await channel(live, '#join-me', { wanted: true, joined: false });
    await channel(live, '#part-me', { wanted: false, joined: true });
    await channel(live, '#kept', { wanted: true, joined: true });
    await channel(down, '#gone', { wanted: false, joined: false });
    const wanted = wantedConnections();

    const plan = await wanted.reconcile([live]);
    await wanted.settled();

    expect(plan.joining).toHaveLength(1);
    expect(plan.parting).toHaveLength(1);
    expect(requests.sort()).toEqual([`JOIN ${live} #join-me`, `PART ${live} #part-me`]);
    expect(await channelRows(live)).toEqual([
      { name: '#join-me', wanted: true, joined: false },
      { name: '#kept', wanted: true, joined: true },
    ]);
    expect(await channelRows(down)).toEqual([]);
  });

  it('holds no transaction or row lock while it asks the IRC service', async () => {
    const id = await server('irc.a.example', true);
    const seen: unknown[] = [];
    mswServer.use(
      http.put(CONNECTIONS, async () => {
        const [row] = await db.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where datname = $1 and state like 'idle in transaction%'`,
          [db.name],
        );
        const locked = await db
          .query('select id from servers where id = $1 for update nowait', [id])
          .then(() => false)
          .catch(() => true);
        seen.push({ idleInTransaction: row!.n, locked });
        return HttpResponse.json({}, { status: 202 });
      }),
    );
    const wanted = wantedConnections();

    await wanted.reconcile([]);
    await wanted.settled();

    expect(seen).toEqual([{ idleInTransaction: 0, locked: false }]);
  });

  it('records the wish as pending while the IRC service is unreachable, and clears it once converged', async () => {
    const id = await server('irc.a.example', true);
    mswServer.use(http.put(CONNECTIONS, () => HttpResponse.error()));
    const wanted = wantedConnections();

    await wanted.reconcile([]);
    await wanted.settled();
    expect(await pending(id)).toBe('the IRC service is unreachable');

    // the IRC service came back and lists the connection: converged
    await wanted.reconcile([id]);
    await wanted.settled();
    expect(await pending(id)).toBeNull();
  });

  it('converges an overtaken wish to the last one', async () => {
    const id = await server('irc.a.example', true);
    let release: (() => void) | undefined;
    mswServer.use(
      http.put(CONNECTIONS, async () => {
        requests.push(`PUT ${id}`);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return HttpResponse.json({}, { status: 202 });
      }),
    );
    const wanted = wantedConnections();

    await wanted.reconcile([]);
    await expect.poll(() => release).toBeTypeOf('function');
    // the operator disconnects while the restore is on its way (the route commits, then passes it on)
    await db.query('update servers set autoconnect = false where id = $1', [id]);
    void wanted.converge(id, { server: 'sync' });
    release?.();
    await wanted.settled();

    expect(requests).toEqual([`PUT ${id}`, `DELETE ${id}`]);
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
