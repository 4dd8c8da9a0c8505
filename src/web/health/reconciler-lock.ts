/** A PostgreSQL advisory lock so that one web instance at a time reconciles. */
import pg from 'pg';

/** Key of the advisory lock that one web instance at a time holds while it reconciles (the text's hash). */
export const RECONCILER_LOCK_SQL_KEY = "hashtext('irc-supervisor:reconciler')";

/** A hold on the reconciler lock by one check; `release()` once, when its writes are committed. */
export interface ReconcilerLease {
  release(): Promise<void>;
}

/**
 * One reconciler at a time across web instances: a PostgreSQL session advisory lock, held on a
 * connection of its own while a node's answer is written (taken after the node answered: never held while a node
 * is asked). If the holder dies, PostgreSQL ends its session and the lock is free again.
 *
 * Inside one instance the checks of several nodes run at once and share the hold: the first takes the lock,
 * the others join it, and the last one to release lets it go. Taking and letting go run one at a time, so two
 * checks never open two sessions; a lease belongs to the session it was taken on, so a check that outlived a
 * lost connection cannot let go of a hold another check took since on a new one.
 */
export class ReconcilerLock {
  private client: pg.Client | undefined;
  /** Leases held on `client`'s session. */
  private holders = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly url: string) {}

  /** A lease when this instance now holds the lock (taken, or shared with its running checks); null when another instance does. */
  acquire(): Promise<ReconcilerLease | null> {
    return this.serialized(async () => {
      if (this.holders === 0) {
        const client = await this.connection();
        const { rows } = await client.query<{ acquired: boolean }>(
          `select pg_try_advisory_lock(${RECONCILER_LOCK_SQL_KEY}) as acquired`,
        );
        if (rows[0]?.acquired !== true) return null;
      }
      this.holders += 1;
      return this.leaseOn(this.client);
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.holders = 0;
    await client?.end().catch(() => undefined);
  }

  private leaseOn(session: pg.Client | undefined): ReconcilerLease {
    let released = false;
    return {
      release: () =>
        this.serialized(async () => {
          // once only, and never on a session that was lost since (the lock went with it)
          if (released || session !== this.client) return;
          released = true;
          this.holders -= 1;
          if (this.holders === 0) {
            await this.client?.query(`select pg_advisory_unlock(${RECONCILER_LOCK_SQL_KEY})`).catch(() => this.drop());
          }
        }),
    };
  }

  private serialized<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.url });
    // a lost connection loses the lock with it; the next check connects again
    client.on('error', () => {
      if (this.client === client) this.drop();
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    this.holders = 0;
    void client?.end().catch(() => undefined);
  }
}
