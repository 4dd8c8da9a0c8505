/**
 * Something that grows over time (a process's output, a server's log, received lines or events) that
 * tests wait on instead of sleeping: the owner calls `changed()` after each change, a test awaits `until`.
 */
export class Watched {
  private readonly listeners = new Set<() => void>();

  /** Re-checks every pending `until`. */
  changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /**
   * Resolves with the first truthy value of `probe`, tried now and after each change; rejects when
   * `probe` throws, or after `timeoutMs` with the message `describe()` gives.
   */
  until<T>(probe: () => T | undefined | null | false, timeoutMs: number, describe: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      const check = () => {
        try {
          const value = probe();
          if (value) finish(() => resolve(value));
        } catch (error) {
          finish(() => reject(error));
        }
      };
      const timer = setTimeout(() => finish(() => reject(new Error(describe()))), timeoutMs);
      this.listeners.add(check);
      check();
    });
  }
}
