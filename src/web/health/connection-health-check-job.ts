/** The connection health check: the IRC service's list of live connections made true in the database. */
import type { MikroORM } from '../../db/orm.ts';
import type { Logger } from '../../logger.ts';
import type { HealthCheckOutcome, HealthCheckReport, PerformOptions } from '../../shared/health-check-report.ts';
import type { IrcStatus } from '../../shared/irc-service-contract.ts';
import type { WebEventPublisher } from '../browser-events/web-event-publisher.ts';
import { ServiceUnavailable } from '../irc-service/errors/service-unavailable.ts';
import { Unauthorized } from '../irc-service/errors/unauthorized.ts';
import type { InternalApiClient } from '../irc-service/internal-api-client.ts';
import {
  type ConnectionReconciliation,
  type ReconciliationResult,
  reconcileConnections,
  type ServerStatusChange,
} from '../servers/disconnect-transition.ts';
import type { WantedConnections, WantedConnectionsPlan } from '../servers/wanted-connections.ts';
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
  client: Pick<InternalApiClient, 'status'>;
  events: WebEventPublisher;
  logger?: Logger;
  now?: () => Date;
}

type ServiceAnswer =
  | { outcome: 'answered'; status: IrcStatus }
  | { outcome: Exclude<HealthCheckOutcome, 'answered'>; error: Error };

/**
 * One health check: asks the IRC service which connections are live and makes the database agree
 * (README.md, "How it works"). Changes happen in one transaction; browsers hear of each changed
 * server only after it commits.
 */
export class ConnectionHealthCheckJob {
  private readonly now: () => Date;

  constructor(private readonly deps: ConnectionHealthCheckJobDeps) {
    this.now = deps.now ?? (() => new Date());
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
    const answer = await this.ask();
    const treatedAsUnavailable = answer.outcome === 'unknown' && options.treatUnknownAsUnavailable === true;
    const reconciliation = holdsLock ? this.reconciliationFor(answer, checkStartedAt, treatedAsUnavailable) : {};

    let result: ReconciliationResult = { disconnected: [], markedConnected: [], kept: [] };
    let error = lockError ?? (answer.outcome === 'answered' ? null : describe(answer.error));
    let wanted: WantedConnectionsPlan | null = null;
    if (holdsLock) {
      try {
        // one EntityManager per check, never the global one
        result = await reconcileConnections(this.deps.orm.em.fork(), reconciliation);
        if (answer.outcome === 'answered' && this.deps.wanted) {
          wanted = await this.deps.wanted.reconcile(answer.status.connections, answer.status.failed ?? []);
        }
      } catch (databaseError) {
        // rolled back: nothing changed, so nothing is broadcast
        error = describe(databaseError);
        this.deps.logger?.error({ err: databaseError }, 'health check: the database update failed');
      }
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

  private async ask(): Promise<ServiceAnswer> {
    try {
      return { outcome: 'answered', status: await this.deps.client.status() };
    } catch (error) {
      if (error instanceof ServiceUnavailable) return { outcome: 'unavailable', error };
      if (error instanceof Unauthorized) return { outcome: 'unauthorized', error };
      return { outcome: 'unknown', error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  private reconciliationFor(
    answer: ServiceAnswer,
    checkStartedAt: Date,
    treatedAsUnavailable: boolean,
  ): ConnectionReconciliation {
    if (answer.outcome === 'answered') {
      const liveIds = answer.status.connections;
      return {
        disconnect: { kind: 'stale', connectedBefore: checkStartedAt, liveIds },
        markConnected: { ids: liveIds, at: this.now() },
      };
    }
    if (answer.outcome === 'unavailable' || treatedAsUnavailable) return { disconnect: { kind: 'all-connected' } };
    // unknown or unauthorized: the service may still hold connections, so nothing changes
    return {};
  }

  private broadcast(changes: ServerStatusChange[]): void {
    for (const { serverId, connectedAt } of changes) {
      this.deps.events.publish('server-status', {
        serverId,
        connected: connectedAt !== null,
        connectedAt: connectedAt?.toISOString() ?? null,
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

function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}
