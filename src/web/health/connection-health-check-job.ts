/** The connection health check: the IRC service's list of live connections made true in the database. */

import type { MikroORM } from '../../db/orm.ts';
import type { Logger } from '../../logger.ts';
import { errorMessage, errorNameAndMessage } from '../../shared/error-text.ts';
import {
  combineReports,
  type HealthCheckOutcome,
  type HealthCheckReport,
  type PerformOptions,
} from '../../shared/health-check-report.ts';
import type { IrcStatus } from '../../shared/irc-service-contract.ts';
import type { IrcNodeView } from '../../shared/web-events.ts';
import type { WebEventPublisher } from '../browser-events/web-event-publisher.ts';
import { ServiceUnavailable } from '../irc-service/errors/service-unavailable.ts';
import { Unauthorized } from '../irc-service/errors/unauthorized.ts';
import type { InternalApiClient } from '../irc-service/internal-api-client.ts';
import { IrcCluster, type IrcNode } from '../irc-service/irc-cluster.ts';
import {
  listConnected,
  type NodeObservation,
  type ReconciliationResult,
  reconcileNode,
  type ServerStatusChange,
} from '../servers/disconnect-transition.ts';
import type { NodeScope } from '../servers/node-scope.ts';
import type { WantedConnections, WantedConnectionsPlan } from '../servers/wanted-connections.ts';
import type { SupervisedNode } from './health-supervisor.ts';
import type { NodeDrain } from './node-drain.ts';
import type { ReconcilerLease, ReconcilerLock } from './reconciler-lock.ts';

export interface ConnectionHealthCheckJobDeps {
  orm: MikroORM;
  /** One reconciler at a time across web instances; without it this instance always reconciles. */
  lock?: Pick<ReconcilerLock, 'acquire'>;
  /**
   * Asks the node at `nodeUrl` to announce these connections again (`joined`, `names`): a server marked
   * connected again may have had its channels reset by an outage that its connection survived.
   */
  resync?: (serverIds: number[], nodeUrl: string) => Promise<unknown>;
  /** Converges wishes and observations (connect, close, join, part) after a check that got the list. */
  wanted?: Pick<WantedConnections, 'reconcile'>;
  /** Moves the servers of draining nodes (make-before-break), started after each check that held the lock. */
  drain?: Pick<NodeDrain, 'advance'>;
  /** Every node of the cluster (`IRC_SERVICE_URLS`); each node's answer speaks only for its own servers. */
  cluster?: IrcCluster<StatusClient>;
  /** The one node of a one-node cluster, when no `cluster` is given (`IRC_SERVICE_URL`; tests). */
  client?: StatusClient;
  events: WebEventPublisher;
  /** Told when a node's state or connection count changes (`node-status` on /events). */
  onNodeChange?: (node: IrcNodeView) => void;
  logger?: Logger;
  now?: () => Date;
}

type ServiceAnswer =
  | { outcome: 'answered'; status: IrcStatus }
  | { outcome: Exclude<HealthCheckOutcome, 'answered'>; error: Error };

type StatusClient = Pick<InternalApiClient, 'status'>;

/** One node's answer to one check, under the name it is trusted as (null: a lone node that never told it). */
type NodeAnswer = { name: string | null; answer: ServiceAnswer };

/** What a node's last definite check (answered or unavailable) saw: its live servers, and since when that holds. */
interface DefiniteSighting {
  liveIds: readonly number[];
  /** Null for a node that was down: whatever it held then is gone, whenever it connected. */
  startedAt: Date | null;
}

/**
 * The health check of one IRC service node (the cluster supervisor runs one per node): asks that node which
 * connections are live and makes the database agree for the servers placed on it (README.md, "How it works").
 * Changes happen in one transaction; browsers hear of each changed server only after it commits. Without a
 * node, every node is checked at once and their reports combined.
 */
export class ConnectionHealthCheckJob {
  private readonly now: () => Date;
  private readonly cluster: IrcCluster<StatusClient>;
  /** Each node by its key: its configured name, or its URL for the lone node of `IRC_SERVICE_URL`. */
  private readonly byKey = new Map<string, IrcNode<StatusClient>>();
  private readonly sightings = new Map<IrcNode<StatusClient>, DefiniteSighting>();

  constructor(private readonly deps: ConnectionHealthCheckJobDeps) {
    this.now = deps.now ?? (() => new Date());
    if (deps.cluster) this.cluster = deps.cluster;
    else if (deps.client) this.cluster = IrcCluster.single(deps.client);
    else throw new Error('ConnectionHealthCheckJob needs a cluster or a client');
    for (const node of this.cluster.nodes) this.byKey.set(node.name ?? node.url, node);
  }

  /** The nodes it checks, in the cluster's order, each under the key its supervisor is named by. */
  get nodes(): SupervisedNode[] {
    return [...this.byKey].map(([key, node]) => ({ key, name: node.name }));
  }

  /** Checks the node named by `options.node` (its key); every node at once, reports combined, without one. */
  async perform(options: PerformOptions = {}): Promise<HealthCheckReport> {
    if (options.node === undefined) {
      return combineReports(await Promise.all(this.cluster.nodes.map((node) => this.performOn(node, options))));
    }
    const node = this.byKey.get(options.node);
    if (!node) throw new Error(`no IRC service node "${options.node}" in this cluster`);
    return this.performOn(node, options);
  }

  /**
   * One node's check: the node is asked first, then its answer is written under the reconciler lock (shared with
   * the checks of the other nodes running now). The lock is never held while a node is asked: a slow or hung node
   * would hold up every other node's check and a drain's switch for up to IRC_STATUS_TIMEOUT_MS.
   */
  private async performOn(node: IrcNode<StatusClient>, options: PerformOptions): Promise<HealthCheckReport> {
    const checkStartedAt = this.now();
    const asked = await this.askNode(node);
    const { lock } = this.deps;
    let lease: ReconcilerLease | null = null;
    let lockError: { name: string; message: string } | null = null;
    try {
      lease = lock ? await lock.acquire() : null;
    } catch (databaseError) {
      lockError = errorNameAndMessage(databaseError);
    }
    try {
      return await this.check(
        node,
        options,
        { checkStartedAt, ...asked },
        lock === undefined || lease !== null,
        lockError,
      );
    } finally {
      await lease?.release();
    }
  }

  /** One check of one node, its answer in; it changes the database only while this instance holds the reconciler lock. */
  private async check(
    node: IrcNode<StatusClient>,
    options: PerformOptions,
    { checkStartedAt, name, answer }: NodeAnswer & { checkStartedAt: Date },
    holdsLock: boolean,
    lockError: { name: string; message: string } | null,
  ): Promise<HealthCheckReport> {
    const treatedAsUnavailable = options.treatUnknownAsUnavailable === true && answer.outcome === 'unknown';
    const down = answer.outcome === 'unavailable' || treatedAsUnavailable;
    const availability = answer.outcome === 'answered' ? 'healthy' : down ? 'unavailable' : undefined;
    const connections = answer.outcome === 'answered' ? answer.status.connections.length : null;
    if (node.recordCheck(answer.outcome, availability, connections, this.now().toISOString())) {
      this.deps.onNodeChange?.(node.view());
    }
    this.remember(node, answer, down, checkStartedAt);
    const scope: NodeScope = { node: name, configured: this.configuredNames() };

    let result: ReconciliationResult = { disconnected: [], markedConnected: [], kept: [] };
    let error = lockError ?? (answer.outcome === 'answered' ? null : errorNameAndMessage(answer.error));
    let wanted: WantedConnectionsPlan | null = null;
    if (holdsLock) {
      try {
        result = await this.reconcile(scope, answer, down, checkStartedAt);
        if (this.deps.wanted && answer.outcome === 'answered') {
          wanted = await this.deps.wanted.reconcile(answer.status.connections, answer.status.failed ?? [], {
            scope,
            observedAt: checkStartedAt,
          });
        } else if (this.deps.wanted && down && this.othersMayTake(node)) {
          // its wanted servers go to the nodes not known to be down (placement passes this one by)
          wanted = await this.deps.wanted.reconcile([], [], { scope, observedAt: checkStartedAt });
        }
      } catch (databaseError) {
        // rolled back: nothing changed, so nothing is broadcast
        error = errorNameAndMessage(databaseError);
        this.deps.logger?.error({ err: databaseError, node: name }, 'health check: the database update failed');
      }
      // the reconciler's: one move at a time, after the check (it never waits on a node under the lock)
      this.deps.drain?.advance();
    }
    this.broadcast([...result.disconnected, ...result.markedConnected]);
    if (result.markedConnected.length > 0 && this.deps.resync) {
      const ids = result.markedConnected.map((change) => change.serverId);
      this.deps.resync(ids, node.url).catch((resyncError: unknown) => {
        this.deps.logger?.warn({ err: errorMessage(resyncError) }, 'health check: resync request failed');
      });
    }

    const report: HealthCheckReport = {
      checkStartedAt: checkStartedAt.toISOString(),
      checkedAt: this.now().toISOString(),
      outcome: answer.outcome,
      connections: answer.outcome === 'answered' ? answer.status.connections : null,
      kept: result.kept,
      disconnected: result.disconnected.map((change) => change.serverId),
      markedConnected: result.markedConnected.map((change) => change.serverId),
      treatedAsUnavailable,
      reconciledElsewhere: !holdsLock && lockError === null,
      restoring: wanted?.restoring ?? [],
      closing: wanted?.closing ?? [],
      joining: wanted?.joining ?? [],
      parting: wanted?.parting ?? [],
      error,
    };
    this.log(report, name);
    return report;
  }

  /** One node's status, judged: an answer under another node's name is not trusted (reported, treated as unknown). */
  private async askNode(node: IrcNode<StatusClient>): Promise<NodeAnswer> {
    try {
      const status = await node.client.status();
      const verdict = node.judge(status);
      if (verdict.trusted) return { name: verdict.name, answer: { outcome: 'answered', status } };
      const message = `the IRC service at ${node.url} answered as node "${verdict.answered}", not "${verdict.expected}": its answers are not trusted; check IRC_SERVICE_URLS and its IRC_NODE_ID`;
      this.deps.logger?.error({ url: node.url, expected: verdict.expected, answered: verdict.answered }, message);
      return { name: verdict.expected, answer: { outcome: 'unknown', error: new Error(message) } };
    } catch (error) {
      const name = node.name;
      if (error instanceof ServiceUnavailable) return { name, answer: { outcome: 'unavailable', error } };
      if (error instanceof Unauthorized) return { name, answer: { outcome: 'unauthorized', error } };
      const failure = error instanceof Error ? error : new Error(String(error));
      return { name, answer: { outcome: 'unknown', error: failure } };
    }
  }

  /** What this node's check writes: a node that answered or is down speaks for its servers; an undecided one changes nothing. */
  private async reconcile(
    scope: NodeScope,
    answer: ServiceAnswer,
    down: boolean,
    checkStartedAt: Date,
  ): Promise<ReconciliationResult> {
    // one EntityManager per check, never the global one
    const em = this.deps.orm.em.fork();
    if (answer.outcome !== 'answered' && !down) {
      // unknown or unauthorized: the node may still hold its connections, so nothing changes
      return { disconnected: [], markedConnected: [], kept: await listConnected(em, scope) };
    }
    const observation: NodeObservation = {
      node: scope.node,
      connectedBefore: checkStartedAt,
      liveIds: answer.outcome === 'answered' ? answer.status.connections : null,
      configured: scope.configured,
      unplaced: this.unplacedVerdict(),
    };
    return reconcileNode(em, observation, this.now(), scope);
  }

  /** Keeps what a definite check saw, for the verdict on unplaced servers; an undecided one forgets it. */
  private remember(node: IrcNode<StatusClient>, answer: ServiceAnswer, down: boolean, checkStartedAt: Date): void {
    if (answer.outcome === 'answered') {
      this.sightings.set(node, { liveIds: answer.status.connections, startedAt: checkStartedAt });
    } else if (down) this.sightings.set(node, { liveIds: [], startedAt: null });
    else this.sightings.delete(node);
  }

  /**
   * An unplaced server marked connected is live nowhere when every node's last definite check left it out and it
   * connected before the earliest of those checks started; undecided while some node has no definite check.
   */
  private unplacedVerdict(): NodeObservation['unplaced'] {
    const sightings = this.cluster.nodes.map((node) => this.sightings.get(node));
    let connectedBefore: Date | null = null;
    const liveIds = new Set<number>();
    for (const sighting of sightings) {
      if (!sighting) return null;
      for (const id of sighting.liveIds) liveIds.add(id);
      if (sighting.startedAt && (connectedBefore === null || sighting.startedAt < connectedBefore)) {
        connectedBefore = sighting.startedAt;
      }
    }
    return { connectedBefore, liveIds: [...liveIds] };
  }

  /** Every configured node's name, or null while a lone node has not told its name. */
  private configuredNames(): string[] | null {
    const names = this.cluster.nodes.map((node) => node.name);
    return names.every((name) => name !== null) ? (names as string[]) : null;
  }

  /** Whether another node may take the wanted servers of a node that is down (a lone node's wait for it, as before). */
  private othersMayTake(down: IrcNode<StatusClient>): boolean {
    return this.cluster.nodes.some((node) => node !== down && node.availability !== 'unavailable');
  }

  private broadcast(changes: ServerStatusChange[]): void {
    for (const { serverId, connectedAt, node } of changes) {
      this.deps.events.publish('server-status', {
        serverId,
        connected: connectedAt !== null,
        connectedAt: connectedAt?.toISOString() ?? null,
        ...(node ? { node } : {}),
      });
    }
  }

  private log(report: HealthCheckReport, node: string | null): void {
    const { logger } = this.deps;
    if (!logger) return;
    const summary = {
      node,
      outcome: report.outcome,
      disconnected: report.disconnected.length,
      markedConnected: report.markedConnected.length,
      kept: report.kept.length,
      error: report.error,
    };
    if (report.outcome === 'unauthorized') {
      logger.error(summary, 'health check: the IRC service refused INTERNAL_API_TOKEN; check that both sides share it');
    } else if (report.outcome !== 'answered') {
      logger.warn(summary, 'health check: the IRC service did not answer');
    } else {
      logger.debug(summary, 'health check done');
    }
  }
}
