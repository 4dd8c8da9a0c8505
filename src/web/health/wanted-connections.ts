import type { MikroORM } from '../../db/orm.ts';
import { runSql } from '../../db/sql.ts';
import type { Logger } from '../../logger.ts';
import { InternalApiError } from '../irc-service/errors/internal-api-error.ts';
import type { InternalApiClient } from '../irc-service/internal-api-client.ts';
import { connectionSettings } from '../servers/connection-settings.ts';

export interface WantedConnectionsOptions {
  orm: MikroORM;
  ircService: Pick<InternalApiClient, 'connect' | 'disconnect'>;
  logger?: Logger;
  /** Pause between two connects to the same host (`RECONNECT_STAGGER_MS`). */
  staggerMs: number;
  /** Waits between connects; a timer by default (tests pass their own). */
  wait?: (ms: number) => Promise<void>;
}

export interface WantedConnectionsPlan {
  /** Wanted (autoconnect) servers the IRC service did not list: asked to connect, staggered per host. */
  restoring: number[];
  /** Live connections of servers the database does not know (deleted meanwhile): closed. */
  closing: number[];
}

/**
 * Wanted vs observed (as in Quassel, Convos, KiwiBNC): `autoconnect` is what the operator wants, the IRC
 * service's list what is. After a check that got the list, servers that are wanted but not live are
 * asked for again, one host at a time paced by `staggerMs` so a restarted IRC service never meets a
 * reconnect storm; a server the operator disconnected (autoconnect false) is never asked for. Each connect
 * re-reads the server under a row lock, so an operator's disconnect in the meantime wins.
 */
export class WantedConnections {
  private readonly pending = new Set<number>();
  private readonly wait: (ms: number) => Promise<void>;
  private restoring: Promise<void> = Promise.resolve();

  constructor(private readonly options: WantedConnectionsOptions) {
    this.wait = options.wait ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Plans and starts the work for one check's list of live connections; resolves with the plan at once. */
  async reconcile(liveIds: readonly number[]): Promise<WantedConnectionsPlan> {
    const em = this.options.orm.em.fork();
    const wanted = await runSql<{ id: number; host: string }>(
      em,
      'select id, host from servers where autoconnect and id <> all(?::int[]) order by host, id',
      [[...liveIds]],
    );
    const unknown = await runSql<{ id: number }>(
      em,
      'select live.id from unnest(?::int[]) as live(id) where not exists (select 1 from servers where servers.id = live.id)',
      [[...liveIds]],
    );
    const restoring = wanted.filter((server) => !this.pending.has(server.id));
    for (const server of restoring) this.pending.add(server.id);
    const closing = unknown.map((row) => row.id);

    const byHost = new Map<string, number[]>();
    for (const { id, host } of restoring) byHost.set(host, [...(byHost.get(host) ?? []), id]);
    const work = Promise.all([
      ...[...byHost.values()].map((ids) => this.restoreHost(ids)),
      ...closing.map((id) => this.close(id)),
    ]).then(() => undefined);
    this.restoring = Promise.all([this.restoring, work]).then(() => undefined);
    if (restoring.length > 0 || closing.length > 0) {
      this.options.logger?.info(
        { restoring: restoring.length, closing: closing.length },
        'restoring wanted connections and closing unknown ones',
      );
    }
    return { restoring: restoring.map((server) => server.id), closing };
  }

  /** Resolves when everything planned so far is done (shutdown, tests). */
  settled(): Promise<void> {
    return this.restoring;
  }

  private async restoreHost(ids: number[]): Promise<void> {
    for (const [index, id] of ids.entries()) {
      if (index > 0) await this.wait(this.options.staggerMs);
      try {
        await this.options.orm.em.fork().transactional(async (tx) => {
          const settings = await connectionSettings(tx, id, { lockRow: true, onlyWanted: true });
          if (settings) await this.options.ircService.connect(id, settings);
        });
      } catch (error) {
        this.report(error, id, 'could not restore a wanted connection');
      } finally {
        this.pending.delete(id);
      }
    }
  }

  private async close(id: number): Promise<void> {
    try {
      await this.options.ircService.disconnect(id);
    } catch (error) {
      this.report(error, id, 'could not close the connection of an unknown server');
    }
  }

  /** Never thrown on: the next check plans the server again. */
  private report(error: unknown, serverId: number, message: string): void {
    const reason = error instanceof InternalApiError ? error.message : `database: ${(error as Error).message}`;
    this.options.logger?.warn({ serverId, err: reason }, message);
  }
}
