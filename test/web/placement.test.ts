import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import { IrcCluster, IrcNode } from '../../src/web/irc-service/irc-cluster.ts';
import { placeServer, placeServers } from '../../src/web/servers/placement.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';

describe('placement of wanted servers', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let close: () => Promise<void>;
  let statements: string[];

  beforeAll(async () => {
    ({ db, orm, close } = await createTestOrm());
    orm.em.getKnex().on('query', (query: { sql: string }) => statements.push(query.sql));
  });
  afterAll(() => close());
  beforeEach(async () => {
    await db.query('delete from servers');
    await db.query('delete from irc_nodes');
    statements = [];
  });

  /** Three nodes, `dead` down (a failover), the others answering. */
  function cluster(dead = 'node-a') {
    const nodes = ['node-a', 'node-b', 'node-c'].map((name) => new IrcNode(name, {}, name));
    for (const node of nodes) node.availability = node.name === dead ? 'unavailable' : 'healthy';
    return new IrcCluster(nodes);
  }

  async function servers(count: number, node: string, { wanted = true, connected = false } = {}): Promise<number[]> {
    const rows = await db.query<{ id: number }>(
      `insert into servers (name, host, port, nickname, autoconnect, irc_node, connected_at)
       select 's' || n, 'irc.example', 6667, 'me', $2, $3, case when $4::bool then now() end
       from generate_series(1, $1::int) as n returning id`,
      [count, wanted, node, connected],
    );
    return rows.map((row) => row.id);
  }

  async function placedOn(ids: number[]): Promise<Array<string | null>> {
    const rows = await db.query<{ irc_node: string | null }>(
      'select irc_node from servers where id = any($1::int[]) order by id',
      [ids],
    );
    return rows.map((row) => row.irc_node);
  }

  it('places on the nodes whose last check answered, not on one that times out or refuses the token', () => {
    const nodes = ['node-a', 'node-b', 'node-c'].map((name) => new IrcNode(name, {}, name));
    const placedOnAny = new IrcCluster(nodes);
    const ids = Array.from({ length: 60 }, (_, index) => index + 1);
    // before the first checks (none answered yet) every node not known to be down takes servers
    expect(new Set(ids.map((id) => placedOnAny.placementFor(id, null)?.name))).toEqual(
      new Set(['node-a', 'node-b', 'node-c']),
    );
    const at = new Date().toISOString();
    for (const node of nodes) node.recordCheck('answered', 'healthy', 0, at);
    nodes[1]!.recordCheck('unauthorized', undefined, null, at);
    nodes[2]!.recordCheck('unknown', undefined, null, at);

    expect(new Set(ids.map((id) => placedOnAny.placementFor(id, null)?.name))).toEqual(new Set(['node-a']));
    // a server already placed on a degraded node stays there
    expect(placedOnAny.placementFor(1, 'node-b')?.name).toBe('node-b');
  });

  it("moves a dead node's servers to the nodes that answer in one statement, as placeServer would one by one", async () => {
    const ids = await servers(40, 'node-a');
    const oneByOne = cluster();
    const expected = ids.map((id) => oneByOne.placementFor(id, 'node-a')?.name);

    const placements = await placeServers(
      orm.em.fork(),
      cluster(),
      ids.map((serverId) => ({ serverId, current: 'node-a', connected: false })),
      { fresh: false },
    );

    expect(statements.filter((sql) => sql.startsWith('update servers'))).toHaveLength(1);
    expect(statements).toHaveLength(1);
    expect(ids.map((id) => placements.get(id)?.node?.name)).toEqual(expected);
    expect(ids.every((id) => placements.get(id)?.moved?.connectedAt === null)).toBe(true);
    expect(await placedOn(ids)).toEqual(expected);
    expect(new Set(expected)).toEqual(new Set(['node-b', 'node-c']));
  });

  it('never writes a node the database says is draining, even one the last reading missed; it chooses again', async () => {
    const ids = await servers(20, 'node-a');
    // node-b began draining after the cluster last read the drains
    await db.query(`insert into irc_nodes (name, draining_since) values ('node-b', now())`);
    const nodes = cluster();

    const placements = await placeServers(
      orm.em.fork(),
      nodes,
      ids.map((serverId) => ({ serverId, current: 'node-a', connected: false })),
      { fresh: false },
    );

    expect(await placedOn(ids)).toEqual(ids.map(() => 'node-c'));
    expect(ids.map((id) => placements.get(id)?.node?.name)).toEqual(ids.map(() => 'node-c'));
    expect(nodes.nodeNamed('node-b')?.draining).toBe(true);
    // the first write, the reading renewed, the refused ones written again: whatever the count
    expect(statements).toHaveLength(3);
  });

  it('moves no server that is no longer wanted, and keeps one placed on a node that answers', async () => {
    const [unwanted] = await servers(1, 'node-a', { wanted: false });
    const kept = (await servers(30, 'node-a')).find((id) => cluster('none').placementFor(id, null)?.name === 'node-b')!;
    await db.query(`update servers set irc_node = 'node-b' where id = $1`, [kept]);

    const placements = await placeServers(orm.em.fork(), cluster(), [
      { serverId: unwanted!, current: 'node-a', connected: false },
      { serverId: kept, current: 'node-b', connected: true },
    ]);

    expect(placements.get(unwanted!)?.moved).toBeUndefined();
    expect(placements.get(kept)).toEqual({ node: expect.objectContaining({ name: 'node-b' }), moved: undefined });
    expect(await placedOn([unwanted!, kept])).toEqual(['node-a', 'node-b']);
  });

  it('placeServer is the same rule for one server: the moved row tells when it connected', async () => {
    const [id] = await servers(1, 'node-a', { connected: true });

    const { node, moved } = await placeServer(orm.em.fork(), cluster(), {
      serverId: id!,
      current: 'node-a',
      connected: true,
    });

    expect(['node-b', 'node-c']).toContain(node?.name);
    expect(moved?.connectedAt).not.toBeNull();
    expect(await placedOn([id!])).toEqual([node?.name]);
  });
});
