import { readSse, type SseMessage } from '../../src/web/sse-reader.ts';

/**
 * Follows a real server-sent-events stream over HTTP for end-to-end tests: every event is kept, and a
 * test waits for the one it expects instead of sleeping.
 */
export interface SseEvent {
  id: string | undefined;
  type: string;
  data: unknown;
}

export interface SseClient {
  readonly events: SseEvent[];
  /** Resolves with the first event (from the start of the stream) that satisfies `match`. */
  waitFor(match: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

function toEvent({ id, event, data }: SseMessage): SseEvent {
  try {
    return { id, type: event, data: JSON.parse(data) };
  } catch {
    return { id, type: event, data };
  }
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}`);
  const events: SseEvent[] = [];
  const listeners = new Set<() => void>();

  void (async () => {
    try {
      for await (const message of readSse(response.body!)) {
        events.push(toEvent(message));
        for (const listener of listeners) listener();
      }
    } catch {
      // aborted by close(), or the server went away: the events so far stay readable
    }
  })();

  return {
    events,
    waitFor(match, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const event = events.find(match);
          if (event) finish(() => resolve(event));
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`no matching event within ${timeoutMs} ms; got:\n${JSON.stringify(events, null, 1)}`)),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    close() {
      abort.abort();
    },
  };
}
