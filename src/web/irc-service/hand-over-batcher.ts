/**
 * Hands connections over to IRC service nodes in batches: the connects asked within one turn of the event loop
 * go to each node in one `PUT /internal/irc/connections` (at most `maxPerRequest` entries each) instead of one
 * request apiece. A failover or a restart hands over hundreds of servers at once, and a request's own cost (a
 * fetch on the web side, routing and parsing on the node) was most of the web side's CPU in it (bench P7).
 */
import { type ConnectionRequest, MAX_CONNECTIONS_PER_BATCH } from '../../shared/irc-service-contract.ts';
import { BadServiceAnswer } from './errors/bad-service-answer.ts';
import type { InternalApiError } from './errors/internal-api-error.ts';

/** What a node's client offers for a hand-over; `connectMany` may be missing (then each goes alone). */
export interface HandOverClient {
  connect(serverId: number, request: ConnectionRequest): Promise<void>;
  connectMany?(
    entries: ReadonlyArray<{ serverId: number; request: ConnectionRequest }>,
  ): Promise<Array<InternalApiError | undefined>>;
}

interface Waiting {
  serverId: number;
  request: ConnectionRequest;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class HandOverBatcher {
  private readonly waiting = new Map<HandOverClient, Waiting[]>();
  private scheduled = false;
  /** Nodes that answered 404 to the batch route (an older IRC service): each connect goes alone there. */
  private readonly withoutBatches = new WeakSet<HandOverClient>();

  constructor(private readonly maxPerRequest = MAX_CONNECTIONS_PER_BATCH) {}

  /** Resolves when the node took the connection; rejects as the single PUT would have. */
  connect(client: HandOverClient, serverId: number, request: ConnectionRequest): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(client) ?? [];
      queue.push({ serverId, request, resolve, reject });
      this.waiting.set(client, queue);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.waiting];
    this.waiting.clear();
    for (const [client, queue] of batches) {
      for (let start = 0; start < queue.length; start += this.maxPerRequest) {
        void this.send(client, queue.slice(start, start + this.maxPerRequest));
      }
    }
  }

  private async send(client: HandOverClient, batch: Waiting[]): Promise<void> {
    if (batch.length === 1 || !client.connectMany || this.withoutBatches.has(client)) return oneByOne(client, batch);
    let refusals: Array<InternalApiError | undefined>;
    try {
      refusals = await client.connectMany(batch);
    } catch (error) {
      if (error instanceof BadServiceAnswer && error.status === 404) {
        // a node from before the batch route: one request each, from now on (until this process restarts)
        this.withoutBatches.add(client);
        return this.send(client, batch);
      }
      if (error instanceof BadServiceAnswer && error.status === 413) {
        // a node from before the batch route refuses a body past its single-request limit before routing it
        return oneByOne(client, batch);
      }
      for (const entry of batch) entry.reject(error);
      return;
    }
    for (const [index, entry] of batch.entries()) {
      const refusal = refusals[index];
      if (refusal) entry.reject(refusal);
      else entry.resolve();
    }
  }
}

/** Each entry in a request of its own (the single PUT), settled with its own answer. */
async function oneByOne(client: HandOverClient, batch: readonly Waiting[]): Promise<void> {
  await Promise.all(
    batch.map(async (entry) => {
      try {
        await client.connect(entry.serverId, entry.request);
        entry.resolve();
      } catch (error) {
        entry.reject(error);
      }
    }),
  );
}
