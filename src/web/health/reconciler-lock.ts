/** A PostgreSQL advisory lock so that one web instance at a time reconciles. */
import pg from 'pg';

/** Key of the advisory lock that one web instance at a time holds while it reconciles (the text's hash). */
export const RECONCILER_LOCK_SQL_KEY = "hashtext('irc-supervisor:reconciler')";

/**
 * One reconciler at a time across web instances: a PostgreSQL session advisory lock, held on a
 * connection of its own from the status request to the commit. If the holder dies, PostgreSQL ends its
 * session and the lock is free again.
 */
export class ReconcilerLock {
  private client: pg.Client | undefined;

  constructor(private readonly url: string) {}

  /** True when this instance now holds the lock; false when another instance does. */
  async tryAcquire(): Promise<boolean> {
    const client = await this.connection();
    const { rows } = await client.query<{ acquired: boolean }>(
      `select pg_try_advisory_lock(${RECONCILER_LOCK_SQL_KEY}) as acquired`,
    );
    return rows[0]?.acquired === true;
  }

  async release(): Promise<void> {
    await this.client?.query(`select pg_advisory_unlock(${RECONCILER_LOCK_SQL_KEY})`).catch(() => this.drop());
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.url });
    // a lost connection loses the lock with it; the next check connects again
    client.on('error', () => this.drop());
    await client.connect();
    this.client = client;
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    void client?.end().catch(() => undefined);
  }
}
