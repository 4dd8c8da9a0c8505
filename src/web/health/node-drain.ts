/**
 * Drain of an IRC service node: nothing new is placed on it, and its live servers are moved to the other nodes
 * one at a time, make-before-break, so that no moved server ever shows disconnected; the others are placed
 * elsewhere all at once.
 */
import type { MikroORM } from '../../db/orm.ts';
import { runSql, toIsoTimestamp } from '../../db/sql.ts';
import type { Logger } from '../../logger.ts';
import { errorMessage } from '../../shared/error-text.ts';
import { inBatches } from '../../shared/in-batches.ts';
import { type IrcEvent, normalizeChannelName } from '../../shared/irc-events.ts';
import type { WebEventPublisher } from '../browser-events/web-event-publisher.ts';
import { LastNodeStanding } from '../irc-service/errors/last-node-standing.ts';
import { UnknownNode } from '../irc-service/errors/unknown-node.ts';
import type { InternalApiClient } from '../irc-service/internal-api-client.ts';
import type { IrcCluster, IrcNode } from '../irc-service/irc-cluster.ts';
import { connectionSettings } from '../servers/connection-settings.ts';
import { drainingNodes, placeServers } from '../servers/placement.ts';
import { CLOSES_AT_ONCE, tolerateNoConnection, type WantedConnections } from '../servers/wanted-connections.ts';
import { RECONCILER_LOCK_SQL_KEY } from './reconciler-lock.ts';

/** What a drain asks of the nodes. */
export type DrainClient = Pick<InternalApiClient, 'connect' | 'disconnect' | 'resync'>;

export interface NodeDrainOptions {
  orm: MikroORM;
  cluster: IrcCluster<DrainClient>;
  /**
   * Connects the servers that were not live on the drained node where they are placed now (`restore`, the
   * reconciler's batched hand-over), and passes the settings on once more to a moved server's new node (an edit
   * during the move went to the old one).
   */
  wanted: Pick<WantedConnections, 'converge' | 'restore'>;
  /** Where `server-status` (the new node) and `node-status` (draining) are told. */
  events?: WebEventPublisher;
  logger?: Logger;
  /**
   * The longest a move may take (the new node registering the server and joining its channels, then the switch
   * waiting for the reconciler lock); then it is given up (the server stays where it was) and tried again at a
   * later check.
   */
  moveTimeoutMs?: number;
  /** How long a server whose move was given up waits before it is tried again (the others go first). */
  retryAfterMs?: number;
  /** Pause between two tries of the switch while a check holds the reconciler lock. */
  lockRetryMs?: number;
  /**
   * Asks for a check now (the supervisor's CHECK_NOW): after a drain, so that the moves start at once (the
   * reconciler starts them after its check), and after a run that moved servers (the node's count drops to 0).
   */
  requestCheck?: () => void;
}

/** A server to move: from the drained node to the target. */
interface Move {
  serverId: number;
  from: IrcNode<DrainClient>;
  to: IrcNode<DrainClient>;
}

/** What a claim found: a live server to move, or one that cannot be moved from its node. */
type Claim =
  | { kind: 'move'; move: Move; connectedAt: string | null }
  | { kind: 'stuck'; serverId: number; node: string; reason: string };

/**
 * A server that was not live on a draining node, placed elsewhere: its old attempt is closed, and it is
 * connected on its new node unless the IRC service gave it up (`failed`: only the operator's Connect retries it).
 */
interface PlacedElsewhere {
  serverId: number;
  host: string;
  failed: boolean;
  from: IrcNode<DrainClient>;
  to: IrcNode<DrainClient>;
  connectedAt: string | null;
}

/** One drain or claim at a time across web instances (a transaction-level advisory lock). */
const DRAIN_LOCK_SQL_KEY = "hashtext('irc-supervisor:drain')";

/**
 * The new connection of a move, as its node's events tell it; watched until the switch is decided, so that a
 * connection that drops once ready (its `disconnected` is ignored: the server is still placed on the old node)
 * is not switched to.
 */
interface MoveWatch {
  node: string;
  serverId: number;
  registered: boolean;
  /** Its connection dropped once it was ready (a new one since is not in its channels yet): no switch. */
  dropped: boolean;
  /** Channels it must join before it takes over (joined on the old node now). */
  channels: Set<string>;
  /** Settles the wait for it (once; later calls change nothing). */
  settle(error?: Error): void;
}

const DEFAULT_MOVE_TIMEOUT_MS = 60_000;
const DEFAULT_RETRY_AFTER_MS = 5 * 60_000;

/**
 * The drain (`POST /api/irc-nodes/:name/drain`), kept in `irc_nodes` so that it outlives a web restart and is
 * seen by every web instance. The moves are driven by the reconciler (`advance()` after a check that held the
 * reconciler lock), one server at a time:
 *
 * 1. claim: `servers.moving_to` = the target, the rendezvous choice among the nodes that are neither down nor
 *    draining (one move at a time across instances, under a transaction-level advisory lock);
 * 2. the target connects, registers (under a fallback nickname while the old connection holds the wanted one)
 *    and joins the channels joined on the old node; meanwhile its events are ignored (the server is placed on
 *    the old node) and the check's fencing spares it (`moving_to`);
 * 3. switch: `irc_node` = the target, in a transaction that holds the reconciler lock, so that no check that
 *    asked the target before it registered decides after the switch;
 * 4. the old node is asked to disconnect (QUIT); its events are ignored from now on. The new connection takes
 *    the wanted nickname back when the old one leaves, and tells its channels' users again (resync).
 *
 * The servers that are not live on the drained node (reconnecting, failed, not registered) are placed elsewhere
 * first, all in one statement, and connected there through the reconciler's batched restore (not connected when
 * the IRC service gave one up: only the operator's Connect retries a failed server); the ones the operator does
 * not want are placed nowhere. A move that does not complete within `moveTimeoutMs` is given up: the server stays
 * on the old node, the reason is logged and shown (`drainProblem`), the new connection is closed, and the others
 * go first. No transaction, lock or pool connection is held while a node is asked.
 */
export class NodeDrain {
  private readonly watches = new Set<MoveWatch>();
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly moveTimeoutMs: number;
  private readonly lockRetryMs: number;
  private readonly retryAfter: number;
  /** Servers whose move was given up, and until when they wait (this instance's memory: a hint, not a rule). */
  private readonly gaveUp = new Map<number, number>();

  constructor(private readonly options: NodeDrainOptions) {
    this.moveTimeoutMs = options.moveTimeoutMs ?? DEFAULT_MOVE_TIMEOUT_MS;
    this.lockRetryMs = options.lockRetryMs ?? 25;
    this.retryAfter = options.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
  }

  /**
   * Marks the node draining (idempotent). Refused for a node not configured, and for the last node that is up and
   * not draining. Serialized across web instances, so that two drains cannot each leave the other's node last.
   */
  async drain(name: string): Promise<void> {
    const node = this.known(name);
    await this.options.orm.em.fork().transactional(async (tx) => {
      await runSql(tx, `select pg_advisory_xact_lock(${DRAIN_LOCK_SQL_KEY})`);
      const draining = await drainingNodes(tx);
      draining.add(name);
      const others = this.options.cluster.nodes.filter((other) => other.name !== null && !draining.has(other.name));
      if (!others.some((other) => other.healthy)) {
        const states = others.map((other) => `${other.name} ${other.view().state}`).join(', ');
        throw new LastNodeStanding(
          `node ${name} is the last healthy IRC service node that is not draining${states ? ` (${states})` : ''}: its servers would have nowhere to go`,
        );
      }
      await runSql(
        tx,
        `insert into irc_nodes (name, draining_since) values (?, now())
         on conflict (name) do update set draining_since = coalesce(irc_nodes.draining_since, now())`,
        [name],
      );
    });
    this.options.logger?.info({ node: name, url: node.url }, 'IRC service node draining: its servers are moved away');
    await this.refresh();
    this.options.requestCheck?.();
  }

  /** The node takes placements again (idempotent); servers moved away stay where they are. */
  async undrain(name: string): Promise<void> {
    this.known(name);
    await runSql(
      this.options.orm.em.fork(),
      'update irc_nodes set draining_since = null, drain_problem = null where name = ?',
      [name],
    );
    this.options.logger?.info({ node: name }, 'IRC service node no longer draining');
    await this.refresh();
  }

  /**
   * Reads which nodes are draining, and their drain's last problem (another instance may have changed them); a
   * node whose view changed is told (`node-status`). Answers how many nodes are draining.
   */
  async refresh(): Promise<number> {
    const { cluster } = this.options;
    const rows = await runSql<{ name: string; drain_problem: string | null }>(
      this.options.orm.em.fork(),
      'select name, drain_problem from irc_nodes where draining_since is not null',
    );
    const changed = new Set(cluster.markDraining(new Set(rows.map((row) => row.name))));
    for (const node of cluster.nodes) {
      const problem = rows.find((row) => row.name === node.name)?.drain_problem ?? null;
      if (problem !== node.drainProblem) changed.add(node);
      node.drainProblem = problem;
    }
    for (const node of changed) this.options.events?.publish('node-status', node.view());
    return rows.length;
  }

  /**
   * After a check that held the reconciler lock: places the servers of draining nodes that are not live
   * elsewhere, then moves the live ones, one at a time, until none is left; a server whose move was given up is tried again after `retryAfterMs`, at a later check. Never
   * rejects; one run at a time per instance.
   */
  advance(): void {
    if (this.running || this.stopped) return;
    const run = this.run()
      .catch((error: unknown) =>
        this.options.logger?.warn({ err: errorMessage(error) }, 'drain: could not place or move a server'),
      )
      .finally(() => {
        this.running = undefined;
      });
    this.running = run;
    this.track(run);
  }

  /**
   * Feeds the moves with the events of a node's stream (called for every event, before it is applied): a move
   * waits for its target's `connected` and `joined` events.
   */
  observe(node: string | null, event: IrcEvent): void {
    if (node === null || this.watches.size === 0 || event.type === 'connection-state') return;
    for (const watch of this.watches) {
      if (watch.node !== node || watch.serverId !== event.payload.serverId) continue;
      switch (event.type) {
        case 'connected':
          watch.registered = true;
          break;
        case 'disconnected':
          watch.dropped ||= watch.registered && watch.channels.size === 0;
          watch.registered = false;
          break;
        case 'joined':
        case 'names':
          watch.channels.delete(normalizeChannelName(event.payload.channel));
          break;
        case 'failed':
          watch.registered = false;
          watch.settle(new Error(`the new node gave the connection up: ${event.payload.reason}`));
          continue;
      }
      if (watch.registered && watch.channels.size === 0) watch.settle();
    }
  }

  /**
   * Shutdown: a move waiting for its new node is given up now (the server stays where it is, the new connection
   * is closed) rather than left for another instance to time out; no move starts after. Bounded by `maxWaitMs`.
   */
  async stop({ maxWaitMs = 3_000 }: { maxWaitMs?: number } = {}): Promise<void> {
    this.stopped = true;
    for (const watch of [...this.watches]) watch.settle(new Error('the web side is stopping'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.settled(), new Promise((resolve) => (timer = setTimeout(resolve, maxWaitMs)))]);
    clearTimeout(timer);
  }

  /** Resolves when everything started so far is done (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private known(name: string): IrcNode<DrainClient> {
    const node = this.options.cluster.nodes.find((each) => each.name === name);
    if (!node) throw new UnknownNode(`no IRC service node named ${name}`);
    return node;
  }

  private async run(): Promise<void> {
    const draining = await this.refresh();
    let moved = draining > 0 ? await this.placeNotLive() : 0;
    for (; !this.stopped; moved += 1) {
      const next = await this.claim();
      if (!next) break;
      if (next.kind === 'stuck') {
        // skipped for a while, so that it does not block the servers after it
        this.gaveUp.set(next.serverId, Date.now() + this.retryAfter);
        this.options.logger?.warn(
          { serverId: next.serverId, node: next.node, reason: next.reason },
          'drain: server skipped',
        );
        await this.recordProblem(next.node, `server ${next.serverId} stays on ${next.node}: ${next.reason}`);
        continue;
      }
      // the dashboard shows where it is going
      this.publishMoving(next.move.serverId, next.connectedAt, next.move.to.name);
      // a move given up waits its turn again; the others go on
      if (!(await this.move(next.move))) this.gaveUp.set(next.move.serverId, Date.now() + this.retryAfter);
    }
    if (moved > 0) this.options.requestCheck?.();
  }

  /**
   * The next live server of a draining node, claimed for its move (`moving_to`); one on a node no longer
   * configured is stuck there. Undefined when there is none, no node to go to, or another move is under way. A
   * claim left behind by a web instance that died is given up first.
   */
  private async claim(): Promise<Claim | undefined> {
    const { cluster } = this.options;
    let abandoned: { id: number; connected_at: string | null }[] = [];
    const claim = await this.options.orm.em.fork().transactional(async (tx): Promise<Claim | undefined> => {
      await runSql(tx, `select pg_advisory_xact_lock(${DRAIN_LOCK_SQL_KEY})`);
      // a live move ends within moveTimeoutMs of its start: twice that leaves room for its requests and writes
      abandoned = await runSql(
        tx,
        `update servers set moving_to = null, moving_since = null
         where moving_to is not null and moving_since < now() - make_interval(secs => ?) returning id, connected_at`,
        [(2 * this.moveTimeoutMs) / 1_000],
      );
      const [busy] = await runSql(tx, 'select id from servers where moving_to is not null limit 1');
      if (busy) return undefined;
      // the live ones; `placeNotLive` placed the others, all but those of a node no longer configured (stuck)
      const [server] = await runSql<{ id: number; irc_node: string }>(
        tx,
        `select s.id, s.irc_node
         from servers s join irc_nodes n on n.name = s.irc_node and n.draining_since is not null
         where s.autoconnect and s.id <> all(?::int[])
           and ((s.connected_at is not null and s.failed_at is null) or s.irc_node <> all(?::text[]))
         order by s.id limit 1`,
        [this.waiting(), this.configuredNames()],
      );
      if (!server) return undefined;
      const from = cluster.nodeNamed(server.irc_node);
      if (!from) {
        const reason = 'the node is no longer configured (IRC_SERVICE_URLS)';
        return { kind: 'stuck', serverId: server.id, node: server.irc_node, reason };
      }
      const to = cluster.placementFor(server.id, null);
      if (!to || to.name === null) return undefined;
      const [claimed] = await runSql<{ connected_at: string | null }>(
        tx,
        'update servers set moving_to = ?, moving_since = now() where id = ? returning connected_at',
        [to.name, server.id],
      );
      return { kind: 'move', move: { serverId: server.id, from, to }, connectedAt: claimed?.connected_at ?? null };
    });
    // once committed: the dashboard no longer shows them moving
    for (const row of abandoned) this.publishMoving(row.id, row.connected_at, null);
    return claim;
  }

  /** Servers whose move was given up lately: not claimed again before their time. */
  private waiting(): number[] {
    const now = Date.now();
    for (const [serverId, until] of this.gaveUp) if (until <= now) this.gaveUp.delete(serverId);
    return [...this.gaveUp.keys()];
  }

  /**
   * The servers of draining nodes with nothing live to keep (reconnecting, failed, not registered), all at once:
   * placed on the other nodes in one statement (`placeServers`, which never writes a draining node), their old
   * attempts closed, and the ones the IRC service did not give up (banned, password refused: one more attempt
   * is the operator's Connect to make) handed over by the reconciler's batched restore. The servers the operator
   * does not want are placed nowhere (the reconciler closes a connection that is left). A server being moved,
   * or placed on a node no longer configured (`claim` says why it stays), is left out. Answers how many servers it
   * placed, on other nodes or nowhere (either way, the next check closes what their old node still holds).
   */
  private async placeNotLive(): Promise<number> {
    const { cluster } = this.options;
    let unplaced = 0;
    const placed = await this.options.orm.em.fork().transactional(async (tx): Promise<PlacedElsewhere[]> => {
      await runSql(tx, `select pg_advisory_xact_lock(${DRAIN_LOCK_SQL_KEY})`);
      const rows = await runSql<{ id: number; irc_node: string; host: string; failed: boolean; unwanted: boolean }>(
        tx,
        `with unwanted as (
           update servers s set irc_node = null from irc_nodes n
           where n.name = s.irc_node and n.draining_since is not null and not s.autoconnect and s.moving_to is null
           returning s.id
         )
         select s.id, s.irc_node, s.host, s.failed_at is not null as failed, false as unwanted
         from servers s join irc_nodes n on n.name = s.irc_node and n.draining_since is not null
         where s.autoconnect and s.moving_to is null and (s.connected_at is null or s.failed_at is not null)
           and s.irc_node = any(?::text[])
         union all
         select id, null, null, null, true from unwanted
         order by id`,
        [this.configuredNames()],
      );
      const wanted = rows.filter((row) => !row.unwanted);
      unplaced = rows.length - wanted.length;
      // the draining nodes as `refresh` just read them; the write refuses one that began draining since
      const placements = await placeServers(
        tx,
        cluster,
        wanted.map((row) => ({ serverId: row.id, current: row.irc_node, connected: false })),
        { fresh: false },
      );
      return wanted.flatMap((row) => {
        const { node: to, moved } = placements.get(row.id) ?? {};
        const from = cluster.nodeNamed(row.irc_node);
        if (!to || !moved || !from) return [];
        return [{ serverId: row.id, host: row.host, failed: row.failed, from, to, connectedAt: moved.connectedAt }];
      });
    });
    if (placed.length === 0) return unplaced;
    const connecting = placed.filter((server) => !server.failed);
    this.options.logger?.info(
      {
        placed: placed.length,
        connecting: connecting.length,
        from: [...new Set(placed.map((server) => server.from.name))],
      },
      'drain: placed the servers that were not live on other nodes',
    );
    // the dashboard shows where each went
    for (const server of placed) this.publishMoving(server.serverId, server.connectedAt, null, server.to.name!);
    this.track(
      (async () => {
        // the old attempts close a chunk at a time (a draining node never gets a request per server all at once),
        // all before their servers connect elsewhere; then one restore, paced per host by the reconciler's lanes
        await inBatches(placed, CLOSES_AT_ONCE, (server) => this.closeOldAttempt(server));
        await this.options.wanted.restore(connecting.map((server) => ({ id: server.serverId, host: server.host })));
      })(),
    );
    return placed.length + unplaced;
  }

  /** A placed server's attempt on its draining node (reconnecting, failed) goes; never rejects. */
  private async closeOldAttempt({ serverId, from }: PlacedElsewhere): Promise<void> {
    try {
      await tolerateNoConnection(from.client.disconnect(serverId));
    } catch (error) {
      this.options.logger?.warn(
        { serverId, node: from.name, err: errorMessage(error) },
        'drain: could not close an old connection',
      );
    }
  }

  /** The names of the configured nodes (`IRC_SERVICE_URLS`). */
  private configuredNames(): string[] {
    return this.options.cluster.nodes.flatMap((node) => (node.name === null ? [] : [node.name]));
  }

  /** One make-before-break move; true when the server switched to its new node. */
  private async move({ serverId, from, to }: Move): Promise<boolean> {
    const { logger } = this.options;
    const em = this.options.orm.em.fork();
    let settings: Awaited<ReturnType<typeof connectionSettings>>;
    let joined: { name: string }[];
    try {
      settings = await connectionSettings(em, serverId, { onlyWanted: true });
      joined = await runSql<{ name: string }>(
        em,
        'select name from channels where server_id = ? and wanted and joined',
        [serverId],
      );
    } catch (error) {
      // released at once, not left claimed until it counts as abandoned (the drain would wait that long)
      return this.giveUp({ serverId, from, to }, `reading the server failed: ${errorMessage(error)}`);
    }
    if (!settings) return this.giveUp({ serverId, from, to }, 'the server is no longer wanted connected');
    logger?.info({ serverId, from: from.name, to: to.name }, 'drain: moving a server (make-before-break)');
    // the whole move, the switch's waits for the lock included, is bounded by moveTimeoutMs: a claim is taken as
    // abandoned after twice that
    const deadline = Date.now() + this.moveTimeoutMs;
    // watching before asking: the new connection may register before the request is answered
    const ready = this.watch(
      to.name!,
      serverId,
      joined.map((row) => row.name),
    );
    let switched: Awaited<ReturnType<NodeDrain['switchPlacement']>>;
    try {
      await to.client.connect(serverId, settings);
      // a connection the target already held (an earlier move given up) tells its state again
      await to.client.resync([serverId]).catch(() => []);
      await ready.promise;
      switched = await this.switchPlacement({ serverId, from, to }, deadline, () => ready.live());
    } catch (error) {
      return this.giveUp({ serverId, from, to }, errorMessage(error));
    } finally {
      ready.close();
    }
    if (switched === 'dropped')
      return this.giveUp({ serverId, from, to }, 'the new connection dropped before the switch');
    if (switched === 'late') {
      const reason = `a check held the reconciler lock until the move's time (${this.moveTimeoutMs} ms) was up`;
      return this.giveUp({ serverId, from, to }, reason);
    }
    if (!switched)
      return this.giveUp(
        { serverId, from, to },
        'the server changed meanwhile (disconnected, deleted or placed again)',
      );
    this.publishMoving(serverId, switched.connectedAt, null, to.name!);
    // break: the old connection sends QUIT; if it cannot be asked now, the next check fences it
    try {
      await tolerateNoConnection(from.client.disconnect(serverId));
    } catch (error) {
      logger?.warn(
        { serverId, node: from.name, err: errorMessage(error) },
        'drain: the old node could not be asked to disconnect; the next check closes it',
      );
    }
    // an edit made during the move (settings, a channel joined or parted) was passed on to the old node, where
    // the server was placed: the current settings once more, now to the new one (never rejects)
    const current = await connectionSettings(this.options.orm.em.fork(), serverId, { onlyWanted: true });
    if (current && JSON.stringify(current) !== JSON.stringify(settings)) {
      await this.options.wanted.converge(serverId, { server: 'restore' });
    }
    // its users as the new connection sees them (its own events were ignored until the switch)
    await to.client.resync([serverId]).catch(() => []);
    logger?.info({ serverId, from: from.name, to: to.name }, 'drain: server moved');
    await this.recordProblem(from.name, null);
    return true;
  }

  /**
   * The switch to the new node, in a transaction that holds the reconciler lock (tried again while a check holds
   * it, until the move's `deadline`): a check that asked the new node before it registered cannot decide after the
   * switch. Undefined when the server changed meanwhile.
   */
  private async switchPlacement(
    { serverId, from, to }: Move,
    deadline: number,
    live: () => boolean,
  ): Promise<{ connectedAt: string | null } | 'dropped' | 'late' | undefined> {
    for (;;) {
      const outcome = await this.options.orm.em.fork().transactional(async (tx) => {
        const [lock] = await runSql<{ acquired: boolean }>(
          tx,
          `select pg_try_advisory_xact_lock(${RECONCILER_LOCK_SQL_KEY}) as acquired`,
        );
        if (!lock?.acquired) return 'busy' as const;
        // its `disconnected` came while the switch waited (then its node's events about it are ignored)
        if (!live()) return 'dropped' as const;
        const [row] = await runSql<{ connected_at: string | null }>(
          tx,
          `update servers set irc_node = moving_to, moving_to = null, moving_since = null
           where id = ? and irc_node = ? and moving_to = ? and autoconnect returning connected_at`,
          [serverId, from.name, to.name],
        );
        return row ? { connectedAt: row.connected_at } : undefined;
      });
      if (outcome !== 'busy') return outcome;
      if (Date.now() > deadline) return 'late';
      await new Promise((resolve) => setTimeout(resolve, this.lockRetryMs));
    }
  }

  /** The server stays where it is; the new connection goes (unless the server was placed there meanwhile). */
  private async giveUp({ serverId, from, to }: Move, reason: string): Promise<false> {
    const { logger } = this.options;
    logger?.warn(
      { serverId, from: from.name, to: to.name, reason },
      'drain: move given up, the server stays on its node',
    );
    const [row] = await runSql<{ irc_node: string | null; connected_at: string | null }>(
      this.options.orm.em.fork(),
      `update servers set moving_to = null, moving_since = null where id = ? and moving_to = ?
       returning irc_node, connected_at`,
      [serverId, to.name],
    );
    if (row) this.publishMoving(serverId, row.connected_at, null);
    await this.recordProblem(from.name, `server ${serverId} stays on ${from.name}: ${reason}`);
    if (row?.irc_node !== to.name) {
      await tolerateNoConnection(to.client.disconnect(serverId)).catch((error: unknown) =>
        logger?.warn(
          { serverId, node: to.name, err: errorMessage(error) },
          'drain: could not close the new connection; the next check closes it',
        ),
      );
    }
    return false;
  }

  /** Tells browsers that a move of the server started (the node it is going to) or ended without a switch (null). */
  /** A move started, ended or was given up; `node`: where the server is placed now, when that changed. */
  private publishMoving(serverId: number, connectedAt: string | null, movingTo: string | null, node?: string): void {
    this.options.events?.publish('server-status', {
      serverId,
      connected: connectedAt !== null,
      connectedAt: toIsoTimestamp(connectedAt),
      ...(node === undefined ? {} : { node }),
      movingTo,
    });
  }

  /** Shows why the drain's last move from `node` was given up (null: it went well), on every instance. */
  private async recordProblem(node: string | null, problem: string | null): Promise<void> {
    await runSql(
      this.options.orm.em.fork(),
      'update irc_nodes set drain_problem = ? where name = ? and drain_problem is distinct from ?',
      [problem, node, problem],
    );
    await this.refresh();
  }

  /**
   * Resolves when the node's events show the server registered and in every one of `channels`; `live()` says
   * whether that connection is still there, until `close()`.
   */
  private watch(node: string, serverId: number, channels: readonly string[]) {
    let settle!: (error?: Error) => void;
    let settled = false;
    const promise = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    const timer = setTimeout(
      () => watch.settle(new Error(`the new node did not register and join within ${this.moveTimeoutMs} ms`)),
      this.moveTimeoutMs,
    );
    const watch: MoveWatch = {
      node,
      serverId,
      registered: false,
      dropped: false,
      channels: new Set(channels.map(normalizeChannelName)),
      settle: (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        settle(error);
      },
    };
    this.watches.add(watch);
    // a rejection nobody awaits yet (the connect request still running) is not unhandled
    promise.catch(() => undefined);
    return {
      promise,
      /** Still the connection that was ready. */
      live: () => watch.registered && !watch.dropped,
      close: () => {
        watch.settle();
        this.watches.delete(watch);
      },
    };
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
    return promise;
  }
}
