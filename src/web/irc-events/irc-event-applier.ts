/** Writes IRC service events into the database and says which browser events they cause. */
import type { EntityManager } from '../../db/orm.ts';
import { intArray, runSql, toIsoTimestamp } from '../../db/sql.ts';
import { type IrcEvent, type IrcEventPayload, normalizeChannelName } from '../../shared/irc-events.ts';
import type { ConnectionState } from '../../shared/irc-service-contract.ts';
import type { ServerStatusEvent, WebEventMap, WebEventType } from '../../shared/web-events.ts';
import type { ConnectionStates } from '../servers/connection-states.ts';
import { disconnectServers } from '../servers/disconnect-transition.ts';
import { channelEvent, failureView, queryChannels } from '../servers/server-views.ts';

/** A browser event to send once the transaction that caused it has committed. */
export type PendingWebEvent = { [T in WebEventType]: { type: T; payload: WebEventMap[T] } }[WebEventType];

/**
 * Applies one IRC service event to the database in one transaction and answers the browser events it
 * caused. Every statement is conditional, so a replayed (duplicate) event changes nothing and causes no
 * event; an event for a server the database no longer knows changes nothing either. A `connection-state`
 * goes to the states kept in memory (`connections`; without them it changes nothing), no transaction; like
 * every event, not when it comes from a node the server is not placed on.
 */
export async function applyIrcEvent(
  em: EntityManager,
  event: IrcEvent,
  connections?: ConnectionStates,
  /** The node whose stream it came from (its `IRC_NODE_ID`); null or left out when a lone node has no name. */
  fromNode?: string | null,
): Promise<PendingWebEvent[]> {
  return applyIrcEvents(em, [event], connections, fromNode);
}

/**
 * Applies events in their order as `applyIrcEvent` applies each, and answers their browser events in that
 * order. Batches exist for bursts (bench P7: a failover of 1,000 connections brings ~1,000 `connected` and
 * ~3,000 `connection-state` events within seconds, and one statement each made the web side CPU-bound): each
 * run of consecutive `connection-state` and `connected` events is applied set-based, in one statement; every
 * other event alone, in its own transaction. Retried whole after a failure, only a single step is all-or-nothing
 * (the steps before a failed one stay applied, and their memory changes are not told twice): the event consumer
 * passes one step at a time (`ircEventSteps`).
 */
export async function applyIrcEvents(
  em: EntityManager,
  events: readonly IrcEvent[],
  connections?: ConnectionStates,
  fromNode?: string | null,
): Promise<PendingWebEvent[]> {
  const changes: PendingWebEvent[] = [];
  for (const step of ircEventSteps(events, (event) => event)) {
    const [first] = step;
    if (first && !inRun(first)) changes.push(...(await applyInTransaction(em, first, fromNode || null)));
    else changes.push(...(await applyRun(em, step.filter(inRun), connections, fromNode || null)));
  }
  return changes;
}

/** The events applied together by `applyIrcEvents`: they touch different stores and commute across servers. */
type RunEvent = Extract<IrcEvent, { type: 'connection-state' | 'connected' }>;

function inRun(event: IrcEvent): event is RunEvent {
  return event.type === 'connection-state' || event.type === 'connected';
}

/**
 * Splits items into the steps they are applied in: each run of consecutive `connection-state` and `connected`
 * events, and every other event alone. An item without an event (one outside the contract) applies nothing
 * and joins a run.
 */
export function ircEventSteps<T>(items: readonly T[], eventOf: (item: T) => IrcEvent | undefined): T[][] {
  const steps: T[][] = [];
  let run: T[] | undefined;
  for (const item of items) {
    const event = eventOf(item);
    if (event && !inRun(event)) {
      steps.push([item]);
      run = undefined;
    } else if (run) {
      run.push(item);
    } else {
      run = [item];
      steps.push(run);
    }
  }
  return steps;
}

/**
 * A run: in one statement (atomic alone: no transaction), its `connected` servers marked, with the node's rule in
 * its condition, and the placements of its `connection-state` servers read; then its states kept in memory, each
 * browser event in the place of the event that caused it. Memory changes last, so a failed statement leaves
 * everything as it was for the retry.
 */
async function applyRun(
  em: EntityManager,
  run: readonly RunEvent[],
  connections: ConnectionStates | undefined,
  fromNode: string | null,
): Promise<PendingWebEvent[]> {
  const states = connections ? run.filter((event) => event.type === 'connection-state') : [];
  const stateIds = states.map((event) => event.payload.serverId);
  const connectedIds = run.flatMap((event) => (event.type === 'connected' ? [event.payload.serverId] : []));
  const { marked, elsewhere } = await markConnectedAndReadPlacements(
    em,
    connectedIds,
    fromNode ? stateIds : [],
    fromNode,
  );
  const statuses = new Map(marked.map((status) => [status.payload.serverId, status]));
  const changes: PendingWebEvent[] = [];
  for (const event of run) {
    const { serverId } = event.payload;
    if (event.type === 'connected') {
      // said once, by the first of a server's `connected` events: the ones after it change nothing
      const status = statuses.get(serverId);
      statuses.delete(serverId);
      if (status) changes.push(status);
    } else if (connections && !elsewhere.has(serverId)) {
      const change = connections.apply(event.payload);
      if (change) changes.push({ type: 'connection-state', payload: change });
    }
  }
  return changes;
}

async function applyInTransaction(
  em: EntityManager,
  event: Exclude<IrcEvent, RunEvent>,
  fromNode: string | null,
): Promise<PendingWebEvent[]> {
  return em.transactional(async (tx) => {
    // a node's stream cannot overwrite the truth of the node the server is placed on now (a node that came
    // back, or the old node of a moved server, still tells of its own connection)
    if (fromNode && (await placedElsewhere(tx, event.payload.serverId, fromNode))) return [];
    switch (event.type) {
      case 'disconnected':
        return (await disconnectServers(tx, { kind: 'ids', ids: [event.payload.serverId] })).map((change) =>
          serverStatus(change.serverId, null, change.node ? { node: change.node } : {}),
        );
      case 'reconnecting':
        return [];
      case 'failed':
        return markFailed(tx, event.payload);
      case 'joined':
        return channelEvents(tx, await upsertJoinedChannel(tx, event.payload.serverId, event.payload.channel));
      case 'parted':
        return channelEvents(tx, await partChannel(tx, event.payload));
      case 'names':
        return channelEvents(tx, await replaceChannelUsers(tx, event.payload));
      case 'user-joined':
        return channelEvents(tx, await addChannelUser(tx, event.payload));
      case 'user-parted':
        return channelEvents(tx, await removeChannelUser(tx, event.payload));
      case 'user-quit':
        return channelEvents(tx, await removeUserFromServer(tx, event.payload));
      case 'nick-changed':
        await renameUser(tx, event.payload);
        return [];
    }
  });
}

/**
 * Applies a full list of the IRC service's connections (`GET /internal/irc/connections`) to the states kept
 * in memory, and answers the `connection-state` browser events of what changed.
 */
export function applyConnectionList(
  connections: ConnectionStates,
  states: readonly ConnectionState[],
): PendingWebEvent[] {
  return connections.replace(states).map((payload) => ({ type: 'connection-state', payload }));
}

/**
 * Applies every node's list at once (after a reset): like their events, a node's entry for a server placed on
 * another node is left out (the new connection of a drain's move, one a node still holds that was fenced), so
 * that the node the server is placed on speaks for it whichever list comes last. Placements in one query.
 */
export async function applyNodeConnectionLists(
  em: EntityManager,
  connections: ConnectionStates,
  lists: ReadonlyArray<{ node: string | null; states: readonly ConnectionState[] }>,
): Promise<PendingWebEvent[]> {
  const ids = lists.flatMap((list) => list.states.map((state) => state.serverId));
  const placed = await runSql<{ id: number; irc_node: string }>(
    em,
    'select id, irc_node from servers where id = any(?::int[]) and irc_node is not null',
    [ids],
  );
  const nodeOf = new Map(placed.map((row) => [row.id, row.irc_node]));
  const own = lists.flatMap(({ node, states }) =>
    states.filter((state) => node === null || (nodeOf.get(state.serverId) ?? node) === node),
  );
  return applyConnectionList(connections, own);
}

/** The rule of a node's events: a server placed on another node (`?` that node) is not this node's to tell of. */
const PLACED_ON_ANOTHER_NODE = 'irc_node is not null and irc_node <> ?';

/** Whether the server is placed on a node other than `node`. */
async function placedElsewhere(em: EntityManager, serverId: number, node: string): Promise<boolean> {
  const rows = await runSql(em, `select 1 from servers where id = ? and ${PLACED_ON_ANOTHER_NODE}`, [serverId, node]);
  return rows.length > 0;
}

function serverStatus(serverId: number, connectedAt: string | null, more: Partial<ServerStatusEvent> = {}) {
  return {
    type: 'server-status',
    payload: { serverId, connected: connectedAt !== null, connectedAt: toIsoTimestamp(connectedAt), ...more },
  } satisfies PendingWebEvent;
}

/**
 * A run's one statement: `connectedIds` marked connected (`fromNode`: the node that told; nothing changes for a
 * server placed on another one), and which of `stateIds` are placed on a node other than `fromNode` (the old node
 * of a moved server, after a drain or a failover, tells of a connection that is no longer the server's).
 */
async function markConnectedAndReadPlacements(
  em: EntityManager,
  connectedIds: readonly number[],
  stateIds: readonly number[],
  fromNode: string | null,
): Promise<{ marked: Array<Extract<PendingWebEvent, { type: 'server-status' }>>; elsewhere: Set<number> }> {
  if (connectedIds.length === 0 && stateIds.length === 0) return { marked: [], elsewhere: new Set() };
  // registered again: a failure it had is over
  const rows = await runSql<{
    id: number;
    connected_at: string | null;
    was_failed: boolean | null;
    irc_node: string | null;
    elsewhere: boolean;
  }>(
    em,
    `with marked as (
       update servers s set connected_at = coalesce(s.connected_at, now()), failure_reason = null, failed_at = null,
         updated_at = now()
       from (select id, failed_at from servers where id = any(?::int[])) old
       where s.id = old.id and (s.connected_at is null or s.failed_at is not null)
         and (?::text is null or s.irc_node is null or s.irc_node = ?)
       returning s.id, s.connected_at, old.failed_at is not null as was_failed, s.irc_node
     )
     select id, connected_at, was_failed, irc_node, false as elsewhere from marked
     union all
     select id, null::timestamptz, null::boolean, null::text, true from servers
     where id = any(?::int[]) and ${PLACED_ON_ANOTHER_NODE}`,
    [intArray(connectedIds), fromNode, fromNode, intArray(stateIds), fromNode ?? ''],
  );
  const elsewhere = new Set(rows.filter((row) => row.elsewhere).map((row) => row.id));
  // `failure` only when it changes, as `pending`; `node` while it is placed on one
  const marked = rows.flatMap((row) =>
    row.elsewhere
      ? []
      : [
          serverStatus(row.id, row.connected_at, {
            ...(row.was_failed ? { failure: null } : {}),
            ...(row.irc_node ? { node: row.irc_node } : {}),
          }),
        ],
  );
  return { marked, elsewhere };
}

/**
 * The IRC service gave up on the connection: it is disconnected (the disconnect transition) and keeps the
 * reason, until it registers again. A replayed event changes nothing.
 */
async function markFailed(
  tx: EntityManager,
  { serverId, reason, at }: IrcEventPayload<'failed'>,
): Promise<PendingWebEvent[]> {
  const disconnected = await disconnectServers(tx, { kind: 'ids', ids: [serverId] });
  const rows = await runSql<{ id: number; failed_at: string; failure_reason: string }>(
    tx,
    `update servers set failure_reason = ?, failed_at = ?, updated_at = now()
     where id = ? and (failed_at is distinct from ?::timestamptz or failure_reason is distinct from ?)
     returning id, failed_at, failure_reason`,
    [reason, at, serverId, at, reason],
  );
  const failure = rows[0] ? failureView(rows[0].failed_at, rows[0].failure_reason) : undefined;
  if (disconnected.length === 0 && failure === undefined) return [];
  return [serverStatus(serverId, null, failure ? { failure } : {})];
}

/** The channel row (created when new) marked joined; its id when something changed. */
async function upsertJoinedChannel(tx: EntityManager, serverId: number, channel: string): Promise<number[]> {
  const rows = await runSql<{ id: number }>(
    tx,
    `insert into channels (server_id, name, joined)
     select id, ?, true from servers where id = ?
     on conflict (server_id, name) do update set joined = true where not channels.joined
     returning id`,
    [normalizeChannelName(channel), serverId],
  );
  return rows.map((row) => row.id);
}

async function partChannel(tx: EntityManager, { serverId, channel }: IrcEventPayload<'parted'>): Promise<number[]> {
  // Out of the channel, its user list is unknown: it is emptied with the joined flag.
  const rows = await runSql<{ id: number }>(
    tx,
    `with parted as (
       update channels set joined = false where server_id = ? and name = ? and joined returning id
     ), cleared as (
       delete from channel_users where channel_id in (select id from parted)
     )
     select id from parted`,
    [serverId, normalizeChannelName(channel)],
  );
  return rows.map((row) => row.id);
}

/** `names` is the full list: users not in it are removed, new ones added, changed modes updated. */
async function replaceChannelUsers(tx: EntityManager, payload: IrcEventPayload<'names'>): Promise<number[]> {
  const changed = new Set(await upsertJoinedChannel(tx, payload.serverId, payload.channel));
  const users = new Map(payload.users.map((user) => [user.nickname, user.modes]));
  const rows = await runSql<{ id: number; removed: number; added: number }>(
    tx,
    `with channel as (
       select id from channels where server_id = ? and name = ?
     ), removed as (
       delete from channel_users u using channel
       where u.channel_id = channel.id and u.nickname <> all(?::text[])
       returning 1
     ), added as (
       insert into channel_users (channel_id, nickname, modes)
       select channel.id, users.nickname, users.modes
       from channel, unnest(?::text[], ?::text[]) as users(nickname, modes)
       on conflict (channel_id, nickname) do update set modes = excluded.modes
       where channel_users.modes <> excluded.modes
       returning 1
     )
     select channel.id, (select count(*) from removed)::int as removed, (select count(*) from added)::int as added
     from channel`,
    [
      payload.serverId,
      normalizeChannelName(payload.channel),
      [...users.keys()],
      [...users.keys()],
      [...users.values()],
    ],
  );
  for (const row of rows) if (row.removed > 0 || row.added > 0) changed.add(row.id);
  return [...changed];
}

async function addChannelUser(tx: EntityManager, payload: IrcEventPayload<'user-joined'>): Promise<number[]> {
  const rows = await runSql<{ channel_id: number }>(
    tx,
    `insert into channel_users (channel_id, nickname, modes)
     select id, ?, ? from channels where server_id = ? and name = ?
     on conflict (channel_id, nickname) do nothing
     returning channel_id`,
    [payload.nickname, payload.modes ?? '', payload.serverId, normalizeChannelName(payload.channel)],
  );
  return rows.map((row) => row.channel_id);
}

async function removeChannelUser(tx: EntityManager, payload: IrcEventPayload<'user-parted'>): Promise<number[]> {
  const rows = await runSql<{ channel_id: number }>(
    tx,
    `delete from channel_users u using channels c
     where u.channel_id = c.id and c.server_id = ? and c.name = ? and u.nickname = ?
     returning u.channel_id`,
    [payload.serverId, normalizeChannelName(payload.channel), payload.nickname],
  );
  return rows.map((row) => row.channel_id);
}

async function removeUserFromServer(tx: EntityManager, payload: IrcEventPayload<'user-quit'>): Promise<number[]> {
  const rows = await runSql<{ channel_id: number }>(
    tx,
    `delete from channel_users u using channels c
     where u.channel_id = c.id and c.server_id = ? and u.nickname = ?
     returning u.channel_id`,
    [payload.serverId, payload.nickname],
  );
  return rows.map((row) => row.channel_id);
}

async function renameUser(tx: EntityManager, payload: IrcEventPayload<'nick-changed'>): Promise<void> {
  // Where the new nickname is already listed (a replay, or names arrived first) the old row just goes.
  await runSql(
    tx,
    `with renamed as (
       delete from channel_users u using channels c
       where u.channel_id = c.id and c.server_id = ? and u.nickname = ?
       returning u.channel_id, u.modes
     )
     insert into channel_users (channel_id, nickname, modes)
     select channel_id, ?, modes from renamed
     on conflict (channel_id, nickname) do nothing`,
    [payload.serverId, payload.nickname, payload.newNickname],
  );
}

/** One `channel` event per changed channel, with its user count, read in one statement. */
async function channelEvents(tx: EntityManager, channelIds: number[]): Promise<PendingWebEvent[]> {
  return (await queryChannels(tx, 'channel', channelIds)).map((channel) => ({
    type: 'channel',
    payload: channelEvent(channel),
  }));
}
