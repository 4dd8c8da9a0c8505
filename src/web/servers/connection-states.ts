/** The latest connection state of each server as the IRC service reported it, kept in memory for the views. */
import type { ConnectionState } from '../../shared/irc-service-contract.ts';
import type { ConnectionStateEvent, ConnectionView } from '../../shared/web-events.ts';

/**
 * Server id → its connection as last reported (`connection-state` events, or `GET /internal/irc/connections`).
 * In memory and not in the database: it is an observation the IRC service can always tell again, and
 * it changes on every reconnect attempt, which is no reason to write a row. Each change answers the
 * browser event it causes; a report that changes nothing answers none.
 */
export class ConnectionStates {
  private readonly byServer = new Map<number, ConnectionView>();

  /** The server's connection, or null when the IRC service has reported none for it. */
  get(serverId: number): ConnectionView | null {
    return this.byServer.get(serverId) ?? null;
  }

  /** Keeps one reported state; the browser event when it differs from what was kept. */
  apply({ serverId, ...connection }: ConnectionState): ConnectionStateEvent | undefined {
    if (sameConnection(this.byServer.get(serverId), connection)) return undefined;
    this.byServer.set(serverId, connection);
    return { serverId, connection };
  }

  /**
   * Takes a full list as the truth: listed servers get their state, servers no longer listed get none
   * (the IRC service holds no connection for them). The browser events of what changed, by server id.
   */
  replace(states: readonly ConnectionState[]): ConnectionStateEvent[] {
    const listed = new Set(states.map((state) => state.serverId));
    const changes: ConnectionStateEvent[] = [];
    for (const serverId of this.byServer.keys()) {
      if (listed.has(serverId)) continue;
      this.byServer.delete(serverId);
      changes.push({ serverId, connection: null });
    }
    for (const state of states) {
      const change = this.apply(state);
      if (change) changes.push(change);
    }
    return changes.sort((a, b) => a.serverId - b.serverId);
  }
}

function sameConnection(kept: ConnectionView | undefined, reported: ConnectionView): boolean {
  return (
    kept !== undefined &&
    kept.state === reported.state &&
    kept.since === reported.since &&
    kept.nickname === reported.nickname &&
    kept.attempt === reported.attempt &&
    kept.nextAttemptAt === reported.nextAttemptAt &&
    kept.lastError?.message === reported.lastError?.message &&
    kept.lastError?.at === reported.lastError?.at
  );
}
