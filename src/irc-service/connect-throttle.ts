/**
 * Admits at most `limit` connects in flight per host; the others wait in arrival order.
 *
 * A freshly started service may open hundreds of connections to one network at once; ngircd's listen
 * backlog is 10 and real networks throttle connects, so an unthrottled burst loses registrations.
 * A connect is "in flight" from the moment it starts until its owner releases it (registered, closed
 * or stopped).
 */
export class ConnectThrottle {
  private readonly hosts = new Map<string, { inFlight: number; waiting: Array<() => void> }>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`connect limit must be >= 1, got ${limit}`);
  }

  /**
   * Calls `start` as soon as `host` has a free slot (possibly at once). The returned function frees
   * the slot, or leaves the queue when `start` has not run yet; calling it again does nothing.
   */
  admit(host: string, start: () => void): () => void {
    const key = host.toLowerCase();
    let entry = this.hosts.get(key);
    if (!entry) {
      entry = { inFlight: 0, waiting: [] };
      this.hosts.set(key, entry);
    }
    const queue = entry;
    let state: 'waiting' | 'admitted' | 'released' = 'waiting';
    const run = () => {
      state = 'admitted';
      queue.inFlight += 1;
      start();
    };
    if (queue.inFlight < this.limit) run();
    else queue.waiting.push(run);

    return () => {
      if (state === 'released') return;
      if (state === 'waiting') {
        const index = queue.waiting.indexOf(run);
        if (index >= 0) queue.waiting.splice(index, 1);
      } else {
        queue.inFlight -= 1;
        queue.waiting.shift()?.();
      }
      state = 'released';
      if (queue.inFlight === 0 && queue.waiting.length === 0) this.hosts.delete(key);
    };
  }

  /** Connects in flight for a host (tests, diagnostics). */
  inFlight(host: string): number {
    return this.hosts.get(host.toLowerCase())?.inFlight ?? 0;
  }

  /** Connects waiting for a slot for a host. */
  waiting(host: string): number {
    return this.hosts.get(host.toLowerCase())?.waiting.length ?? 0;
  }
}
