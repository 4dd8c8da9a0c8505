/** The connection health check: the IRC service's list of live connections made true in the database. */
import type { MikroORM } from '../../db/orm.ts';
import type { Logger } from '../../logger.ts';
import type { HealthCheckOutcome, HealthCheckReport, PerformOptions } from '../../shared/health-check-report.ts';
import type { IrcStatus } from '../../shared/irc-service-contract.ts';
import type { IrcNodeView } from '../../shared/web-events.ts';
import type { WebEventPublisher } from '../browser-events/web-event-publisher.ts';
import { ServiceUnavailable } from '../irc-service/errors/service-unavailable.ts';
import { Unauthorized } from '../irc-service/errors/unauthorized.ts';
import type { InternalApiClient } from '../irc-service/internal-api-client.ts';
import { IrcCluster, type IrcNode } from '../irc-service/irc-cluster.ts';
import {
  type ConnectionReconciliation,
  type ReconciliationResult,
  reconcileConnections,
  type ServerStatusChange,
} from '../servers/disconnect-transition.ts';
import type { WantedConnections, WantedConnectionsPlan } from '../servers/wanted-connections.ts';
import type { NodeDrain } from './node-drain.ts';
import type { ReconcilerLock } from './reconciler-lock.ts';

export interface ConnectionHealthCheckJobDeps {
  orm: MikroORM;
  /** One reconciler at a time across web instances; without it this instance always reconciles. */
  lock?: Pick<ReconcilerLock, 'tryAcquire' | 'release'>;
  /**
   * Asks the IRC service to announce these connections again (`joined`, `names`): a server marked
   * connected again may have had its channels reset by an outage that its connection survived.
   */
  resync?: (serverIds: number[]) => Promise<unknown>;
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

/** One node's answer to one check, under the name it is trusted as (null: a lone node that never told it). */
type StatusClient = Pick<InternalApiClient, 'status'>;

type NodeAnswer = { node: IrcNode<StatusClient>; name: string | null; answer: ServiceAnswer };

/**
 * The outcome a check of several nodes reports: the worst of theirs, `unknown` before `unavailable` so that the
 * supervisor's count of unknown checks in a row keeps growing while one node hangs and another is down.
 */
const OUTCOME_SEVERITY: readonly HealthCheckOutcome[] = ['unauthorized', 'unknown', 'unavailable', 'answered'];

/**
 * One health check: asks the IRC service which connections are live and makes the database agree
 * (README.md, "How it works"). Changes happen in one transaction; browsers hear of each changed
 * server only after it commits.
 */
export class ConnectionHealthCheckJob {
  private readonly now: () => Date;
  private readonly cluster: IrcCluster<StatusClient>;

  constructor(private readonly deps: ConnectionHealthCheckJobDeps) {
    this.now = deps.now ?? (() => new Date());
    if (deps.cluster) this.cluster = deps.cluster;
    else if (deps.client) this.cluster = IrcCluster.single(deps.client);
    else throw new Error('ConnectionHealthCheckJob needs a cluster or a client');
  }

  async perform(options: PerformOptions = {}): Promise<HealthCheckReport> {
    const { lock } = this.deps;
    let holdsLock = lock === undefined;
    let lockError: { name: string; message: string } | null = null;
    try {
      holdsLock ||= await lock!.tryAcquire();
    } catch (databaseError) {
      lockError = describe(databaseError);
    }
    try {
      return await this.check(options, holdsLock, lockError);
    } finally {
      if (holdsLock && lock) await lock.release();
    }
  }

  /** One check; it changes the database only while this instance holds the reconciler lock. */
  private async check(
    options: PerformOptions,
    holdsLock: boolean,
    lockError: { name: string; message: string } | null,
  ): Promise<HealthCheckReport> {
    const checkStartedAt = this.now();
    const nodeAnswers = await Promise.all(this.cluster.nodes.map((node) => this.askNode(node)));
    const treatedAsUnavailable =
      options.treatUnknownAsUnavailable === true && nodeAnswers.some(({ answer }) => answer.outcome === 'unknown');
    const answer = overall(nodeAnswers);
    const checkedAt = this.now().toISOString();
    for (const { node, answer: nodeAnswer } of nodeAnswers) {
      const { outcome } = nodeAnswer;
      const down = outcome === 'unavailable' || (outcome === 'unknown' && treatedAsUnavailable);
      const availability = outcome === 'answered' ? 'healthy' : down ? 'unavailable' : undefined;
      const connections = nodeAnswer.outcome === 'answered' ? nodeAnswer.status.connections.length : null;
      if (node.recordCheck(outcome, availability, connections, checkedAt)) {
        this.deps.onNodeChange?.(node.view());
      }
    }
    const reconciliation = holdsLock ? this.reconciliationFor(nodeAnswers, checkStartedAt, treatedAsUnavailable) : {};

    let result: ReconciliationResult = { disconnected: [], markedConnected: [], kept: [] };
    let error = lockError ?? (answer.outcome === 'answered' ? null : describe(answer.error));
    let wanted: WantedConnectionsPlan | null = null;
    if (holdsLock) {
      try {
        // one EntityManager per check, never the global one
        result = await reconcileConnections(this.deps.orm.em.fork(), reconciliation);
        const answered = nodeAnswers.filter(({ answer: nodeAnswer }) => nodeAnswer.outcome === 'answered');
        if (answered.length > 0 && this.deps.wanted) {
          // nodes that neither answered nor are known to be down may still hold their servers: leave those be
          const undecided = nodeAnswers.flatMap(({ node, name }) =>
            node.availability !== 'unavailable' && !answered.some((live) => live.node === node) && name !== null
              ? [name]
              : [],
          );
          wanted = await this.deps.wanted.reconcile(liveIdsOf(answered), failedIdsOf(answered), {
            undecidedNodes: undecided,
            liveOnNodes: answered.map(({ name, answer: nodeAnswer }) => ({
              node: name,
              liveIds: nodeAnswer.outcome === 'answered' ? nodeAnswer.status.connections : [],
            })),
          });
        }
      } catch (databaseError) {
        // rolled back: nothing changed, so nothing is broadcast
        error = describe(databaseError);
        this.deps.logger?.error({ err: databaseError }, 'health check: the database update failed');
      }
      // the reconciler's: one move at a time, after the check (it never waits on a node under the lock)
      this.deps.drain?.advance();
    }
    this.broadcast([...result.disconnected, ...result.markedConnected]);
    if (result.markedConnected.length > 0 && this.deps.resync) {
      const ids = result.markedConnected.map((change) => change.serverId);
      this.deps.resync(ids).catch((resyncError: unknown) => {
        this.deps.logger?.warn({ err: (resyncError as Error).message }, 'health check: resync request failed');
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
    this.log(report);
    return report;
  }

  /** One node's status, judged: an answer under another node's name is not trusted (reported, treated as unknown). */
  private async askNode(node: IrcNode<StatusClient>): Promise<NodeAnswer> {
    try {
      const status = await node.client.status();
      const verdict = node.judge(status);
      if (verdict.trusted) return { node, name: verdict.name, answer: { outcome: 'answered', status } };
      const message = `the IRC service at ${node.url} answered as node "${verdict.answered}", not "${verdict.expected}": its answers are not trusted; check IRC_SERVICE_URLS and its IRC_NODE_ID`;
      this.deps.logger?.error({ url: node.url, expected: verdict.expected, answered: verdict.answered }, message);
      return { node, name: verdict.expected, answer: { outcome: 'unknown', error: new Error(message) } };
    } catch (error) {
      const name = node.name;
      if (error instanceof ServiceUnavailable) return { node, name, answer: { outcome: 'unavailable', error } };
      if (error instanceof Unauthorized) return { node, name, answer: { outcome: 'unauthorized', error } };
      const failure = error instanceof Error ? error : new Error(String(error));
      return { node, name, answer: { outcome: 'unknown', error: failure } };
    }
  }

  private reconciliationFor(
    answers: readonly NodeAnswer[],
    checkStartedAt: Date,
    treatedAsUnavailable: boolean,
  ): ConnectionReconciliation {
    const live = answers.flatMap(({ name, answer }) =>
      answer.outcome === 'answered' ? [{ node: name, liveIds: answer.status.connections }] : [],
    );
    const down = answers.filter(
      ({ answer }) => answer.outcome === 'unavailable' || (answer.outcome === 'unknown' && treatedAsUnavailable),
    );
    if (live.length === 0 && down.length === 0) {
      // unknown or unauthorized everywhere: the nodes may still hold connections, so nothing changes
      return {};
    }
    const names = this.cluster.nodes.map((node) => node.name);
    return {
      disconnect: {
        kind: 'cluster',
        connectedBefore: checkStartedAt,
        answered: live,
        unavailable: down.flatMap(({ name }) => (name === null ? [] : [name])),
        configured: names.every((name) => name !== null) ? (names as string[]) : null,
        everyNodeDefinitive: live.length + down.length === answers.length,
      },
      markConnectedOnNodes: { live, at: this.now() },
    };
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

  private log(report: HealthCheckReport): void {
    const { logger } = this.deps;
    if (!logger) return;
    const summary = {
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

/** The check's outcome for the report and the supervisor: answered when every node answered, else the worst. */
function overall(answers: readonly NodeAnswer[]): ServiceAnswer {
  for (const outcome of OUTCOME_SEVERITY) {
    const found = answers.find(({ answer }) => answer.outcome === outcome);
    if (found && outcome !== 'answered') return found.answer;
  }
  return { outcome: 'answered', status: { connections: liveIdsOf(answers) } };
}

/** Every live server of the nodes that answered, ascending (once each). */
function liveIdsOf(answers: readonly NodeAnswer[]): number[] {
  const ids = new Set<number>();
  for (const { answer } of answers) {
    if (answer.outcome === 'answered') for (const id of answer.status.connections) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

/** Every server an answering node gave up on (its `failed`), ascending (once each). */
function failedIdsOf(answers: readonly NodeAnswer[]): number[] {
  const ids = new Set<number>();
  for (const { answer } of answers) {
    if (answer.outcome === 'answered') for (const id of answer.status.failed ?? []) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}
