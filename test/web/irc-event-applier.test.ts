import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '../../src/db/orm.ts';
import type { IrcEvent } from '../../src/shared/irc-events.ts';
import { applyIrcEvent, type PendingWebEvent } from '../../src/web/irc-events/irc-event-applier.ts';
import { createTestOrm, type TestDatabase } from '../support/database.ts';
import { insertServer, serverPicture } from './fixtures.ts';

describe('applyIrcEvent (real PostgreSQL)', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, orm, close } = await createTestOrm());
  });
  afterAll(() => close());

  const apply = (event: IrcEvent) => applyIrcEvent(orm.em.fork(), event);

  /** Applies an event, then the same event again (a replay), answering both results. */
  async function applyTwice(event: IrcEvent): Promise<[PendingWebEvent[], PendingWebEvent[]]> {
    return [await apply(event), await apply(event)];
  }

  async function usersOf(serverId: number, channel: string): Promise<Array<{ nickname: string; modes: string }>> {
    return db.query(
      `select u.nickname, u.modes from channel_users u join channels c on c.id = u.channel_id
       where c.server_id = $1 and c.name = $2 order by u.nickname`,
      [serverId, channel],
    );
  }

  async function channelRow(serverId: number, name: string) {
    const [row] = await db.query<{ id: number; joined: boolean }>(
      'select id, joined from channels where server_id = $1 and name = $2',
      [serverId, name],
    );
    return row;
  }

  it('connected sets connected_at once, and says so once', async () => {
    const serverId = await insertServer(db, { connectedAt: null });

    const [first, replay] = await applyTwice({ type: 'connected', payload: { serverId, nickname: 'me' } });

    const picture = await serverPicture(db, serverId);
    expect(picture.connected).toBe(true);
    expect(first).toEqual([
      { type: 'server-status', payload: { serverId, connected: true, connectedAt: expect.any(String) } },
    ]);
    expect(new Date((first[0]!.payload as { connectedAt: string }).connectedAt).getTime()).toBe(
      new Date(picture.connectedAt!).getTime(),
    );
    expect(replay).toEqual([]);
  });

  it('failed disconnects the server and keeps the reason until it registers again', async () => {
    const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });
    const at = '2026-12-03T07:00:00.000Z';
    const reason = 'banned by the server: Closing Link: host (K-lined)';

    const [first, replay] = await applyTwice({ type: 'failed', payload: { serverId, reason, at } });

    expect(await serverPicture(db, serverId)).toMatchObject({ connected: false, joinedChannels: 0, channelUsers: 0 });
    expect(first).toEqual([
      {
        type: 'server-status',
        payload: { serverId, connected: false, connectedAt: null, failure: { message: reason, at } },
      },
    ]);
    expect(replay).toEqual([]);
    const failure = () => db.query('select failure_reason, failed_at from servers where id = $1', [serverId]);
    expect(await failure()).toEqual([{ failure_reason: reason, failed_at: new Date(at) }]);

    const [connected] = await applyTwice({ type: 'connected', payload: { serverId, nickname: 'me' } });

    expect(connected).toEqual([
      {
        type: 'server-status',
        payload: { serverId, connected: true, connectedAt: expect.any(String), failure: null },
      },
    ]);
    expect(await failure()).toEqual([{ failure_reason: null, failed_at: null }]);
  });

  it('disconnected applies the disconnect transition to that server only', async () => {
    const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice', 'bob'] }] });
    const other = await insertServer(db, { channels: [{ name: '#a', users: ['carol'] }] });

    const [first, replay] = await applyTwice({ type: 'disconnected', payload: { serverId } });

    expect(await serverPicture(db, serverId)).toMatchObject({ connected: false, joinedChannels: 0, channelUsers: 0 });
    expect(await serverPicture(db, other)).toMatchObject({ connected: true, joinedChannels: 1, channelUsers: 1 });
    expect(first).toEqual([{ type: 'server-status', payload: { serverId, connected: false, connectedAt: null } }]);
    expect(replay).toEqual([]);
  });

  it('joined creates or marks the channel joined, folding its name', async () => {
    const serverId = await insertServer(db, { channels: [{ name: '#old', joined: false }] });

    const [created, replay] = await applyTwice({ type: 'joined', payload: { serverId, channel: '#New' } });
    const [rejoined] = await applyTwice({ type: 'joined', payload: { serverId, channel: '#old' } });

    expect(await channelRow(serverId, '#new')).toMatchObject({ joined: true });
    expect(await channelRow(serverId, '#old')).toMatchObject({ joined: true });
    expect(created).toEqual([
      {
        type: 'channel',
        payload: { serverId, channelId: expect.any(Number), name: '#new', joined: true, userCount: 0, wanted: true },
      },
    ]);
    expect(replay).toEqual([]);
    expect(rejoined).toHaveLength(1);
  });

  it('parted marks the channel not joined and forgets its users', async () => {
    const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });

    const [first, replay] = await applyTwice({ type: 'parted', payload: { serverId, channel: '#a' } });

    expect(await channelRow(serverId, '#a')).toMatchObject({ joined: false });
    expect(await usersOf(serverId, '#a')).toEqual([]);
    expect(first).toEqual([{ type: 'channel', payload: expect.objectContaining({ joined: false, userCount: 0 }) }]);
    expect(replay).toEqual([]);
  });

  it('names replaces the user list: removes the absent, adds the new, updates modes', async () => {
    const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice', 'gone'] }] });
    const users = [
      { nickname: 'alice', modes: 'o' },
      { nickname: 'bob', modes: '' },
      { nickname: 'carol', modes: 'v' },
    ];

    const [first, replay] = await applyTwice({ type: 'names', payload: { serverId, channel: '#a', users } });

    expect(await usersOf(serverId, '#a')).toEqual([
      { nickname: 'alice', modes: 'o' },
      { nickname: 'bob', modes: '' },
      { nickname: 'carol', modes: 'v' },
    ]);
    expect(first).toEqual([{ type: 'channel', payload: expect.objectContaining({ name: '#a', userCount: 3 }) }]);
    expect(replay).toEqual([]);
  });

  it('names for a channel not yet known creates it joined', async () => {
    const serverId = await insertServer(db);

    await apply({ type: 'names', payload: { serverId, channel: '#fresh', users: [{ nickname: 'me', modes: '' }] } });

    expect(await channelRow(serverId, '#fresh')).toMatchObject({ joined: true });
    expect(await usersOf(serverId, '#fresh')).toEqual([{ nickname: 'me', modes: '' }]);
  });

  it('user-joined adds a user once', async () => {
    const serverId = await insertServer(db, { channels: [{ name: '#a', users: ['alice'] }] });

    const [first, replay] = await applyTwice({
      type: 'user-joined',
      payload: { serverId, channel: '#a', nickname: 'bob' },
    });

    expect((await usersOf(serverId, '#a')).map((user) => user.nickname)).toEqual(['alice', 'bob']);
    expect(first).toEqual([{ type: 'channel', payload: expect.objectContaining({ userCount: 2 }) }]);
    expect(replay).toEqual([]);
  });

  it('user-parted removes a user from that channel only', async () => {
    const serverId = await insertServer(db, {
      channels: [
        { name: '#a', users: ['alice', 'bob'] },
        { name: '#b', users: ['bob'] },
      ],
    });

    const [first, replay] = await applyTwice({
      type: 'user-parted',
      payload: { serverId, channel: '#a', nickname: 'bob' },
    });

    expect((await usersOf(serverId, '#a')).map((user) => user.nickname)).toEqual(['alice']);
    expect((await usersOf(serverId, '#b')).map((user) => user.nickname)).toEqual(['bob']);
    expect(first).toHaveLength(1);
    expect(replay).toEqual([]);
  });

  it('user-quit removes a user from every channel of that server, not of others', async () => {
    const serverId = await insertServer(db, {
      channels: [
        { name: '#a', users: ['alice', 'bob'] },
        { name: '#b', users: ['bob'] },
      ],
    });
    const other = await insertServer(db, { channels: [{ name: '#a', users: ['bob'] }] });

    const [first, replay] = await applyTwice({ type: 'user-quit', payload: { serverId, nickname: 'bob' } });

    expect((await usersOf(serverId, '#a')).map((user) => user.nickname)).toEqual(['alice']);
    expect(await usersOf(serverId, '#b')).toEqual([]);
    expect(await usersOf(other, '#a')).toHaveLength(1);
    expect(first).toHaveLength(2);
    expect(replay).toEqual([]);
  });

  it('nick-changed renames a user in every channel, keeping modes, and a replay changes nothing', async () => {
    const serverId = await insertServer(db, { channels: [{ name: '#a' }, { name: '#b' }] });
    await apply({ type: 'names', payload: { serverId, channel: '#a', users: [{ nickname: 'bob', modes: 'o' }] } });
    await apply({ type: 'names', payload: { serverId, channel: '#b', users: [{ nickname: 'bob', modes: '' }] } });

    await applyTwice({ type: 'nick-changed', payload: { serverId, nickname: 'bob', newNickname: 'robert' } });

    expect(await usersOf(serverId, '#a')).toEqual([{ nickname: 'robert', modes: 'o' }]);
    expect(await usersOf(serverId, '#b')).toEqual([{ nickname: 'robert', modes: '' }]);
  });

  it('changes nothing for a server the database does not know', async () => {
    const before = await db.query('select count(*)::int as n from channels');

    const results = await Promise.all([
      apply({ type: 'connected', payload: { serverId: 999_999, nickname: 'me' } }),
      apply({ type: 'joined', payload: { serverId: 999_999, channel: '#a' } }),
      apply({ type: 'names', payload: { serverId: 999_999, channel: '#a', users: [{ nickname: 'x', modes: '' }] } }),
    ]);

    expect(results.flat()).toEqual([]);
    expect(await db.query('select count(*)::int as n from channels')).toEqual(before);
  });
});
