/** Brings the IRC service in line with what the operator wants: connects, disconnects, joins and parts. */

import type { EntityManager, MikroORM } from '../../db/orm.ts';
import { intArray, runSql, toIsoTimestamp } from '../../db/sql.ts';
import type { Logger } from '../../logger.ts';
import { ascending } from '../../shared/ascending.ts';
import { errorMessage } from '../../shared/error-text.ts';
import { inBatches } from '../../shared/in-batches.ts';
import type { WebEventPublisher } from '../browser-events/web-event-publisher.ts';
import { BadServiceAnswer } from '../irc-service/errors/bad-service-answer.ts';
import { InternalApiError } from '../irc-service/errors/internal-api-error.ts';
import { HandOverBatcher } from '../irc-service/hand-over-batcher.ts';
import type { InternalApiClient } from '../irc-service/internal-api-client.ts';
import { IrcCluster, type IrcNode } from '../irc-service/irc-cluster.ts';
import { type ServerWish, serverWishes } from './connection-settings.ts';
import { disconnectServers } from './disconnect-transition.ts';
import { type NodeScope, reconciledByNode } from './node-scope.ts';
import { type Placement, placeServer, placeServers } from './placement.ts';
import { pendingView } from './server-views.ts';

export interface WantedConnectionsOptions {
  orm: MikroORM;
  /** The IRC service nodes; each server's requests go to the node it is placed on (`servers.irc_node`). */
  cluster?: IrcCluster<ConvergeClient>;
  /** The one node of a one-node cluster, when no `cluster` is given (tests). */
  ircService?: ConvergeClient;
  /** Where `server-status` (with `pending`), `channel-removed` are told; none in tests that do not look. */
  events?: WebEventPublisher;
  logger?: Logger;
  /**
   * Pause between two connects to the same host (`RECONNECT_STAGGER_MS`); with one, a host's restores go one at
   * a time. 0: they are handed over side by side (`handoffsPerHost`) and the node's per-host connect throttle
   * (`IRC_CONNECTS_PER_HOST`) alone paces them on the network.
   */
  staggerMs: number;
  /** Restores of one host handed to the IRC service at once when `staggerMs` is 0; 64 by default. */
  handoffsPerHost?: number;
  /** Waits between connects; a timer by default (tests pass their own). */
  wait?: (ms: number) => Promise<void>;
}

/** What passing wishes on asks of a node (a batch of restores goes in one request where it offers `connectMany`). */
type ConvergeClient = Pick<InternalApiClient, 'connect' | 'disconnect' | 'join' | 'part'> &
  Partial<Pick<InternalApiClient, 'connectMany'>>;

/** Thrown (and recorded as pending) when a wanted server has no node to go to. */
class NoNodeAvailable extends InternalApiError {
  override name = 'NoNodeAvailable';
}

export interface WantedConnectionsPlan {
  /** Wanted (autoconnect) servers the IRC service did not list, live or failed: asked to connect, staggered per host. */
  restoring: number[];
  /** Live connections of servers that are not wanted (autoconnect false) or not known (deleted): closed. */
  closing: number[];
  /** Wanted channels (ids) not joined on live, wanted servers: joined. */
  joining: number[];
  /** Channels (ids) the operator parted: parted on live servers, then their rows deleted. */
  parting: number[];
}

/**
 * What to pass on for one server: `sync` makes the IRC service's connection match the wish either way
 * (an operator's connect, disconnect, new settings, delete); `restore` only connects it if it is still
 * wanted, `close` only closes it if it is not (the reconciler's plans). `channels`: names to join or part.
 */
export interface ConvergeWork {
  server?: 'sync' | 'restore' | 'close';
  channels?: readonly string[];
}

interface QueuedWork {
  server: ConvergeWork['server'];
  channels: Set<string>;
}

/**
 * Intent first, converge after (desired vs observed, as Kubernetes controllers do). The operator's wishes
 * live in the database (`servers.autoconnect`, `channels.wanted`), committed by the routes in statements of
 * their own; the IRC service's list of live connections is the observation. This passes the wishes on:
 *
 * - `converge(serverId, work)`: after an operator's action commits. Calls for one server run one at a time;
 *   work that comes in meanwhile is merged and runs next, so a wish that was overtaken (connect, then
 *   disconnect before the IRC service answered) converges to the last one. Each call reads the wish fresh
 *   (a plain select, no lock) right before it asks, and no transaction, row lock or pool connection is held
 *   while it waits on the IRC service.
 * - `reconcile(liveIds)`: after every check that got the list (and so whenever the IRC service's event
 *   stream opens, which runs a check): wanted servers not live are connected, one host at a time paced by
 *   `staggerMs` so a restarted IRC service never meets a reconnect storm; live ones not wanted are closed;
 *   wanted channels not joined on live servers are joined; channels not wanted are parted, then deleted.
 *
 * When the IRC service cannot be asked, the wish stays, and the server records `pending_since` /
 * `pending_reason`; they are cleared when a wish is passed on, or when a check finds the server converged.
 */
export class WantedConnections {
  /** Servers whose restore is planned (waiting for its turn on its host, or running). */
  private readonly restoringIds = new Set<number>();
  /** When each server's connect was last requested (epoch ms), so that a list older than it restores nothing. */
  private readonly connectRequestedAt = new Map<number, number>();
  private readonly queued = new Map<number, QueuedWork>();
  private readonly running = new Map<number, Promise<void>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly wait: (ms: number) => Promise<void>;
  private readonly cluster: IrcCluster<ConvergeClient>;
  /** A batch of restores' connects, asked together, go to each node in one request. */
  private readonly handOvers = new HandOverBatcher();

  constructor(private readonly options: WantedConnectionsOptions) {
    this.wait = options.wait ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    if (options.cluster) this.cluster = options.cluster;
    else if (options.ircService) this.cluster = IrcCluster.single(options.ircService);
    else throw new Error('WantedConnections needs a cluster or an ircService');
  }

  /**
   * Passes the wishes of one server on to the IRC service; resolves when its queue is empty, never rejects
   * (failures are recorded as `pending` and logged). Routes call it after their commit without awaiting it.
   */
  converge(serverId: number, work: ConvergeWork): Promise<void> {
    const queued = this.queued.get(serverId) ?? { server: undefined, channels: new Set<string>() };
    queued.server = mergeServerWork(queued.server, work.server);
    for (const name of work.channels ?? []) queued.channels.add(name);
    this.queued.set(serverId, queued);
    const running = this.running.get(serverId);
    if (running) return running;
    const run = this.drain(serverId);
    this.running.set(serverId, run);
    return this.track(run);
  }

  /**
   * Plans and starts the work for one check's list of live connections; resolves with the plan at once.
   * `failedIds` (the status's `failed`), and servers whose failure is recorded (`failed_at`, which outlives an
   * IRC service restart): connections the IRC service gave up on (banned, password refused, no acceptable
   * nickname) are not asked for again, which would be a reconnect loop; only the operator's Connect retries them
   * (it clears the failure). A failed one that is no longer wanted is closed.
   *
   * `scope`: the check of one node of a cluster, whose list speaks only for the servers placed on it. Only those
   * (and the servers no node holds: placed nowhere or on a node gone from the configuration, and not marked
   * connected) are restored, joined, parted or settled; a listed connection of a server placed on another node is
   * closed on this one (fencing). Without it, the list is every node's (a one-node cluster; tests).
   * `observedAt`: when the list was asked for; a server whose connect was requested since is not restored
   * again (the list could not show it yet: another node's check placed and connected it meanwhile).
   */
  async reconcile(
    liveIds: readonly number[],
    failedIds: readonly number[] = [],
    { scope, observedAt }: { scope?: NodeScope; observedAt?: Date } = {},
  ): Promise<WantedConnectionsPlan> {
    const plan = await planConvergence(this.options.orm.em.fork(), liveIds, failedIds, scope);
    const node = scope?.node ?? null;
    if (node !== null) this.fence(node, plan.stray);
    const { wanted, unwanted, channels } = plan;
    // parted while the server is not live: nothing to tell the IRC service, the rows just went
    for (const row of plan.removed)
      this.options.events?.publish('channel-removed', { serverId: row.server_id, channelId: row.id });
    // converged (the wish is what the IRC service reports): nothing is pending any more
    this.publishPending(plan.settled.map((row) => ({ ...row, pending_since: null, pending_reason: null })));

    const restoring = wanted.filter(
      (server) => !this.restoringIds.has(server.id) && !this.connectRequestedSince(server.id, observedAt),
    );
    void this.restoreByHost(restoring);
    const closing = unwanted;
    for (const id of closing) void this.converge(id, { server: 'close' });
    const byServer = new Map<number, string[]>();
    for (const row of channels) byServer.set(row.server_id, [...(byServer.get(row.server_id) ?? []), row.name]);
    for (const [serverId, names] of byServer) void this.converge(serverId, { channels: names });

    const joining = channels.filter((row) => row.wanted).map((row) => row.id);
    const parting = channels.filter((row) => !row.wanted).map((row) => row.id);
    if (restoring.length + closing.length + channels.length > 0) {
      this.options.logger?.info(
        { restoring: restoring.length, closing: closing.length, joining: joining.length, parting: parting.length },
        'converging: restoring wanted connections, closing unwanted ones, joining and parting channels',
      );
    }
    return { restoring: restoring.map((server) => server.id), closing, joining, parting };
  }

  /**
   * Restores wanted servers the way the reconciler does (a drain's servers that were not live, placed on their
   * new node already): per host, read and placed a batch at a time, each lane-full handed to its node in one
   * request. A server already being restored is left to that restore; a failed one is the caller's to leave
   * out (only the operator's Connect retries it). Resolves when they were handed over; never rejects.
   */
  restore(servers: ReadonlyArray<{ id: number; host: string }>): Promise<void> {
    return this.restoreByHost(servers.filter((server) => !this.restoringIds.has(server.id)));
  }

  private async restoreByHost(servers: ReadonlyArray<{ id: number; host: string }>): Promise<void> {
    for (const server of servers) this.restoringIds.add(server.id);
    const byHost = new Map<string, number[]>();
    for (const { id, host } of servers) byHost.set(host, [...(byHost.get(host) ?? []), id]);
    await Promise.all([...byHost.values()].map((ids) => this.track(this.restoreHost(ids))));
  }

  /**
   * Fencing: a node that came back (or the old node of a moved server) still holding a connection placed on
   * another node closes it, so a server is never registered twice for longer than one check; but not the new
   * connection of a server being moved there (`moving_to`, a drain's make-before-break). Outside the
   * server's queue: the request goes to a node the server's own work never asks.
   */
  private fence(name: string, ids: readonly number[]): void {
    const node = this.cluster.nodeNamed(name);
    if (!node || ids.length === 0) return;
    this.options.logger?.warn(
      { node: name, count: ids.length, serverIds: ids.slice(0, 50) },
      'fencing: closing connections placed on another node',
    );
    // a node back after a failover may hold thousands: a batch at a time, as a drain closes its old attempts
    const close = (id: number) =>
      tolerateNoConnection(node.client.disconnect(id)).catch((error: unknown) =>
        this.report(error, id, 'could not close a connection placed on another node'),
      );
    void this.track(inBatches(ids, CLOSES_AT_ONCE, close));
  }

  private connectRequestedSince(serverId: number, observedAt: Date | undefined): boolean {
    const requestedAt = this.connectRequestedAt.get(serverId);
    return observedAt !== undefined && requestedAt !== undefined && requestedAt >= observedAt.getTime();
  }

  /** Resolves when everything started so far is done (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
    return promise;
  }

  /**
   * Restores one host's wanted servers. A restarted or failed-over node never meets a reconnect storm either
   * way: each node admits at most `IRC_CONNECTS_PER_HOST` connects in flight per host and queues the rest, so
   * with no stagger the web only bounds its own work (reads, requests) and hands a host's servers over side by
   * side; 1,000 servers then take about as long as the network takes to register them through that throttle.
   * A stagger is for a network that also limits the rate of new connections from one address: it spaces the
   * hand-overs, one at a time (1,000 servers at 100 ms take 100 s).
   */
  private async restoreHost(ids: number[]): Promise<void> {
    const { staggerMs } = this.options;
    if (staggerMs > 0) {
      for (const [index, id] of ids.entries()) {
        if (index > 0) await this.wait(staggerMs);
        try {
          await this.converge(id, { server: 'restore' });
        } finally {
          this.restoringIds.delete(id);
        }
      }
      return;
    }
    // the hand-overs' reads and placements are made a batch at a time, a batch ahead of the lanes
    const lanes = Math.min(this.options.handoffsPerHost ?? DEFAULT_HANDOFFS_PER_HOST, ids.length);
    const ready: Array<{ id: number; run: () => Promise<void> }> = [];
    let next = 0;
    let loading: Promise<void> | undefined;
    const load = (): Promise<void> => {
      loading ??= (async () => {
        const batch = ids.slice(next, next + lanes * RESTORE_BATCHES_PER_LANE);
        next += batch.length;
        ready.push(...(await this.prepareRestores(batch)));
      })().finally(() => {
        loading = undefined;
      });
      return loading;
    };
    const handOver = async () => {
      for (;;) {
        const restore = ready.shift();
        if (!restore) {
          if (next >= ids.length && !loading) return;
          await load();
          continue;
        }
        if (ready.length < lanes && next < ids.length) void load();
        try {
          await restore.run();
        } finally {
          this.restoringIds.delete(restore.id);
        }
      }
    };
    await Promise.all(Array.from({ length: lanes }, handOver));
  }

  /**
   * Readies a batch of one host's restores: the wishes, settings and channels in one select, then the wanted ones
   * placed in one statement, outside any transaction and before any node is asked. Each server is claimed for
   * its queue meanwhile (work that comes in runs after its restore, so an overtaken wish still converges to the
   * last one); one that already has work queued or running keeps its own path, reading its wish in its turn.
   * Never rejects: when the batch's statements fail, each pass reads for itself.
   */
  private async prepareRestores(ids: number[]): Promise<Array<{ id: number; run: () => Promise<void> }>> {
    const restore: QueuedWork = { server: 'restore', channels: new Set() };
    const own = ids.filter((id) => this.queued.has(id) || this.running.has(id));
    const claimed = ids.filter((id) => !this.queued.has(id) && !this.running.has(id));
    const starts = new Map<number, (batch: PrefetchedWish | undefined) => void>();
    for (const id of claimed) {
      const started = new Promise<PrefetchedWish | undefined>((resolve) => starts.set(id, resolve));
      this.running.set(
        id,
        (async () => {
          await this.pass(id, restore, await started);
          await this.drain(id);
        })(),
      );
    }
    let prefetched = new Map<number, PrefetchedWish>();
    try {
      prefetched = await this.readAndPlace(claimed);
    } catch (error) {
      this.report(error, claimed[0]!, 'could not read or place a batch of restores; each reads its own');
    }
    return [
      ...own.map((id) => ({ id, run: () => this.converge(id, { server: 'restore' }) })),
      ...claimed.map((id) => ({
        id,
        run: () => {
          const running = this.running.get(id)!;
          starts.get(id)!(prefetched.get(id) ?? { wish: undefined, placement: undefined });
          return running;
        },
      })),
    ];
  }

  /** The wishes of servers, and the wanted ones placed (`placeServers`, the cluster's last draining reading). */
  private async readAndPlace(ids: number[]): Promise<Map<number, PrefetchedWish>> {
    if (ids.length === 0) return new Map();
    const em = this.options.orm.em.fork();
    const wishes = await serverWishes(em, ids);
    const wanted = [...wishes].filter(([, wish]) => wish.autoconnect);
    const placements = await placeServers(
      em,
      this.cluster,
      wanted.map(([serverId, wish]) => ({ serverId, current: wish.ircNode, connected: wish.connected })),
      { fresh: false },
    );
    return new Map(ids.map((id) => [id, { wish: wishes.get(id), placement: placements.get(id) }]));
  }

  /** Runs the server's queued work until none is left; the queue is emptied and `running` cleared in one step. */
  private async drain(serverId: number): Promise<void> {
    for (;;) {
      const work = this.queued.get(serverId);
      if (!work) {
        this.running.delete(serverId);
        return;
      }
      this.queued.delete(serverId);
      await this.pass(serverId, work);
    }
  }

  /**
   * One round of calls for one server, after a fresh read of the wish (or the one its batch just read: a
   * failover's hand-over); outside any transaction.
   */
  private async pass(serverId: number, work: QueuedWork, batch?: PrefetchedWish): Promise<void> {
    const em = this.options.orm.em.fork();
    try {
      const server = batch?.wish ?? (await serverWishes(em, [serverId])).get(serverId);
      if (work.server) {
        if (!server) {
          // deleted: its connection, if any, goes, wherever it is
          await this.disconnectEverywhere(serverId, null);
          return;
        }
        if (server.autoconnect && server.request && work.server !== 'close') {
          // read fresh right before the call: still wanted, with the current settings and channels
          const node = batch?.placement
            ? this.placed(serverId, server.ircNode, batch.placement)
            : await this.place(serverId, server.ircNode, server.connected);
          this.connectRequestedAt.set(serverId, Date.now());
          await (batch
            ? this.handOvers.connect(node.client, serverId, server.request)
            : node.client.connect(serverId, server.request));
        } else if (!server.autoconnect && work.server !== 'restore') {
          await this.disconnectEverywhere(serverId, server.ircNode);
          // not wanted any more: placed nowhere
          await runSql(em, 'update servers set irc_node = null where id = ? and not autoconnect', [serverId]);
          // the IRC service has let the connection go: show it at once (its `disconnected` event changes nothing more)
          for (const change of await disconnectServers(em, { kind: 'ids', ids: [serverId] })) {
            this.options.events?.publish('server-status', {
              serverId: change.serverId,
              connected: false,
              connectedAt: null,
            });
          }
        }
      }
      if (!server) return;
      for (const name of work.channels) await this.passChannel(serverId, name);
      // only the server's own queue records it pending, so the read at the start tells whether any is to clear
      if (server.pending) await this.clearPending(serverId);
    } catch (error) {
      if (error instanceof InternalApiError) {
        // the wish stays; the next check (or the event stream reopening) converges it
        await this.recordPending(serverId, error.message).catch((databaseError: unknown) => {
          this.report(databaseError, serverId, 'could not record a pending wish');
        });
      }
      this.report(error, serverId, 'could not pass a wish on to the IRC service; it stays pending');
    }
  }

  private async passChannel(serverId: number, name: string): Promise<void> {
    const em = this.options.orm.em.fork();
    const [row] = await runSql<{
      id: number;
      wanted: boolean;
      connected: boolean;
      autoconnect: boolean;
      irc_node: string | null;
    }>(
      em,
      `select c.id, c.wanted, s.connected_at is not null as connected, s.autoconnect, s.irc_node
       from channels c join servers s on s.id = c.server_id where c.server_id = ? and c.name = ?`,
      [serverId, name],
    );
    if (!row) return;
    // the server's own node; placed nowhere yet (a cluster's wanted server before its connect), the connect
    // to come carries its wanted channels
    const ircService = this.cluster.nodeNamed(row.irc_node)?.client ?? this.noNode;
    // A wanted server not registered yet may have its connection on the way (Connect, then Join, before the
    // network's welcome): the IRC service keeps the change and applies it on registration, so it is told
    // now, or the next check would be the first to notice. With no connection it answers 404, and the next
    // connect carries the wanted channels.
    const mayHaveConnection = row.connected || row.autoconnect;
    if (row.wanted) {
      if (mayHaveConnection) await tolerateNoConnection(ircService.join(serverId, name));
      return;
    }
    if (mayHaveConnection) await tolerateNoConnection(ircService.part(serverId, name));
    // gone once parted, unless the operator wanted it back meanwhile
    const deleted = await runSql<{ id: number }>(em, 'delete from channels where id = ? and not wanted returning id', [
      row.id,
    ]);
    if (deleted.length > 0) this.options.events?.publish('channel-removed', { serverId, channelId: row.id });
  }

  /**
   * The node a wanted server's connection goes to: where it is placed while that node is not known to be down
   * (nor draining, for a server not live there), otherwise the rendezvous choice among the nodes that are
   * neither, written to `servers.irc_node` in its own short statement before the node is asked (only while the
   * server is still wanted). A route that commits a wish places the server in its own transaction: it is kept.
   * The draining nodes are as last read (each check of the reconciler reads them; the write refuses a newer one).
   */
  private async place(serverId: number, current: string | null, connected: boolean): Promise<IrcNode<ConvergeClient>> {
    const placement = await placeServer(
      this.options.orm.em.fork(),
      this.cluster,
      { serverId, current, connected },
      { fresh: false },
    );
    return this.placed(serverId, current, placement);
  }

  /** The node of a placement made (`place`, or a batch's `placeServers`); its move told and its old node fenced. */
  private placed(
    serverId: number,
    current: string | null,
    { node, moved }: Placement<ConvergeClient>,
  ): IrcNode<ConvergeClient> {
    if (!node) throw new NoNodeAvailable('no IRC service node is available');
    if (moved && node.name !== null) {
      // the dashboard shows where it went
      this.options.events?.publish('server-status', {
        serverId,
        connected: moved.connectedAt !== null,
        connectedAt: toIsoTimestamp(moved.connectedAt),
        node: node.name,
      });
      this.options.logger?.info({ serverId, node: node.name, from: current }, 'server placed on an IRC service node');
      // its old node, when it still answers (draining), may hold an attempt (reconnecting, failed): it goes
      const old = current === null ? undefined : this.cluster.nodeNamed(current);
      if (old && old !== node && old.availability !== 'unavailable') this.fence(current!, [serverId]);
    }
    return node;
  }

  /** Closes a connection on its node; placed nowhere (or deleted), on every node that may hold it. */
  private async disconnectEverywhere(serverId: number, placed: string | null): Promise<void> {
    const own = placed === null ? undefined : this.cluster.nodeNamed(placed);
    const nodes = own
      ? [own]
      : this.cluster.nodes.filter((node) => node.availability !== 'unavailable' || this.cluster.nodes.length === 1);
    for (const node of nodes) await tolerateNoConnection(node.client.disconnect(serverId));
  }

  /** Stands in for a node when a server has none: every request answers "no such connection". */
  private readonly noNode: Pick<ConvergeClient, 'join' | 'part'> = {
    join: () => Promise.reject(new BadServiceAnswer('the server is placed on no IRC service node', 404)),
    part: () => Promise.reject(new BadServiceAnswer('the server is placed on no IRC service node', 404)),
  };

  private async recordPending(serverId: number, reason: string): Promise<void> {
    const rows = await runSql<PendingRow>(
      this.options.orm.em.fork(),
      `update servers set pending_since = coalesce(pending_since, now()), pending_reason = ?
       where id = ? and pending_reason is distinct from ? returning id, connected_at, pending_since, pending_reason`,
      [reason, serverId, reason],
    );
    this.publishPending(rows);
  }

  private async clearPending(serverId: number): Promise<void> {
    const rows = await runSql<PendingRow>(
      this.options.orm.em.fork(),
      `update servers set pending_since = null, pending_reason = null
       where id = ? and pending_since is not null returning id, connected_at, pending_since, pending_reason`,
      [serverId],
    );
    this.publishPending(rows);
  }

  private publishPending(rows: PendingRow[]): void {
    for (const row of rows) {
      this.options.events?.publish('server-status', {
        serverId: row.id,
        connected: row.connected_at !== null,
        connectedAt: row.connected_at === null ? null : new Date(row.connected_at).toISOString(),
        pending: pendingView(row.pending_since, row.pending_reason),
      });
    }
  }

  /** Never thrown on: the next check plans the server again. */
  private report(error: unknown, serverId: number, message: string): void {
    const reason = error instanceof InternalApiError ? error.message : `database: ${errorMessage(error)}`;
    this.options.logger?.warn({ serverId, err: reason }, message);
  }
}

/** What one list of live connections asks of the reconciler, read (and the settled rows written) in one statement. */
interface ConvergencePlan {
  /** Listed by a node though placed on another: closed there (fencing). */
  stray: number[];
  /** Wanted, not failed, not listed: restored (by host, then id). */
  wanted: Array<{ id: number; host: string }>;
  /** Listed (live or failed) but not wanted, or deleted: closed (ascending). */
  unwanted: number[];
  /** Channels of listed wanted servers whose wish differs from what was observed (by server, then name). */
  channels: Array<{ id: number; server_id: number; name: string; wanted: boolean }>;
  /** Parted channels of servers not listed: deleted. */
  removed: Array<{ id: number; server_id: number }>;
  /** Servers whose wish is what the list shows: `pending` cleared. */
  settled: Array<{ id: number; connected_at: string | null }>;
}

/**
 * The reconciler's reads and its two writes (parted channels of servers not live deleted, converged servers'
 * `pending` cleared) in one statement: a node's check costs one round trip here whatever the count. The
 * writes touch rows no read of the same statement depends on (channels of servers not live; `pending` columns).
 */
async function planConvergence(
  em: EntityManager,
  liveIds: readonly number[],
  failedIds: readonly number[],
  scope: NodeScope | undefined,
): Promise<ConvergencePlan> {
  const node = scope?.node ?? null;
  const owned = reconciledByNode(scope);
  const ownedS = reconciledByNode(scope, 's.');
  const live = intArray(liveIds);
  const failed = intArray(failedIds);
  const held = intArray([...liveIds, ...failedIds]);
  const rows = await runSql<{
    kind: keyof ConvergencePlan;
    id: number;
    server_id: number | null;
    text: string | null;
    flag: boolean | null;
  }>(
    em,
    `with stray as (
       select s.id from servers s
       where ?::text is not null and s.id = any(?::int[]) and s.irc_node is not null and s.irc_node <> ?::text
         and s.moving_to is distinct from ?::text
     ),
     wanted as (
       select id, host from servers
       where autoconnect and failed_at is null and id <> all(?::int[]) and id <> all(?::int[]) and ${owned.sql}
     ),
     unwanted as (
       select held.id from unnest(?::int[]) as held(id)
       where not exists (select 1 from servers where servers.id = held.id and servers.autoconnect)
     ),
     differing as (
       select c.id, c.server_id, c.name, c.wanted from channels c join servers s on s.id = c.server_id
       where s.autoconnect and s.id = any(?::int[]) and (c.wanted <> c.joined or not c.wanted)
         and (s.irc_node is null or s.irc_node is not distinct from ?::text or ?::text is null)
     ),
     removed as (
       delete from channels c using servers s
       where s.id = c.server_id and not c.wanted and c.server_id <> all(?::int[]) and ${ownedS.sql}
       returning c.id, c.server_id
     ),
     settled as (
       update servers s set pending_since = null, pending_reason = null
       where pending_since is not null and autoconnect = (id = any(?::int[])) and ${owned.sql}
         and not (id = any(?::int[]) and exists (select 1 from channels c where c.server_id = s.id and (c.wanted <> c.joined or not c.wanted)))
       returning id, to_json(connected_at) #>> '{}' as connected_at
     )
     select 'stray' as kind, id, null::int as server_id, null::text as text, null::bool as flag from stray
     union all select 'wanted', id, null, host, null from wanted
     union all select 'unwanted', id, null, null, null from unwanted
     union all select 'channels', id, server_id, name, wanted from differing
     union all select 'removed', id, server_id, null, null from removed
     union all select 'settled', id, null, connected_at, null from settled`,
    [
      node,
      live,
      node,
      node,
      live,
      failed,
      ...owned.bindings,
      held,
      live,
      node,
      node,
      live,
      ...ownedS.bindings,
      live,
      ...owned.bindings,
      live,
    ],
  );
  const plan: ConvergencePlan = { stray: [], wanted: [], unwanted: [], channels: [], removed: [], settled: [] };
  for (const row of rows) {
    if (row.kind === 'stray') plan.stray.push(row.id);
    else if (row.kind === 'wanted') plan.wanted.push({ id: row.id, host: row.text! });
    else if (row.kind === 'unwanted') plan.unwanted.push(row.id);
    else if (row.kind === 'channels') {
      plan.channels.push({ id: row.id, server_id: row.server_id!, name: row.text!, wanted: row.flag! });
    } else if (row.kind === 'removed') plan.removed.push({ id: row.id, server_id: row.server_id! });
    else plan.settled.push({ id: row.id, connected_at: row.text });
  }
  plan.stray.sort(ascending);
  plan.wanted.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.id - b.id));
  plan.unwanted.sort(ascending);
  plan.channels.sort((a, b) => a.server_id - b.server_id || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return plan;
}

/**
 * Restores of one host handed over at once with no stagger: a lane-full goes to each node in one batch request
 * (`HandOverBatcher`), so more lanes cost requests no more; the nodes' connect throttles pace the network, and a
 * restore's pass asks the database nothing once its batch was read. Fewer lanes fall out of step and send
 * batches of one or two (bench P7: 2.8 s with 64, 3.0 to 3.6 s with 16).
 */
export const DEFAULT_HANDOFFS_PER_HOST = 64;

/** Closes sent to one node at once (fencing, a drain's old attempts): as many as a host's hand-over lanes. */
export const CLOSES_AT_ONCE = DEFAULT_HANDOFFS_PER_HOST;

/** A server's wish and placement as its hand-over batch read and wrote them, right before its connect. */
interface PrefetchedWish {
  wish: ServerWish | undefined;
  /** None for a server not wanted (nothing placed), or when the batch could not be read. */
  placement: Placement<ConvergeClient> | undefined;
}

/** Hand-overs read and placed together: this many per lane (`handoffsPerHost`), a batch ahead of the lanes. */
const RESTORE_BATCHES_PER_LANE = 4;

interface PendingRow {
  id: number;
  connected_at: string | null;
  pending_since: string | null;
  pending_reason: string | null;
}

function mergeServerWork(a: ConvergeWork['server'], b: ConvergeWork['server']): ConvergeWork['server'] {
  if (!a || a === b) return b ?? a;
  if (!b) return a;
  return 'sync';
}

/** The IRC service answered 404: it holds no such connection, so there is nothing to join, part or close. */
export async function tolerateNoConnection(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof BadServiceAnswer && error.status === 404)) throw error;
  }
}
