/**
 * Follows a real server-sent-events stream over HTTP for end-to-end tests: every event is kept, and a
 * test waits for the one it expects instead of sleeping.
 */
import { performance } from 'node:perf_hooks';
import { readSse, type SseMessage } from '../../src/shared/sse/sse-reader.ts';
import { Watched } from './watched.ts';

export interface SseEvent {
  id: string | undefined;
  type: string;
  data: unknown;
  /** When it was read (performance.now()): what a benchmark times against. */
  at: number;
}

export interface SseClient {
  readonly events: SseEvent[];
  /** Resolves with the first event (from the start of the stream) that satisfies `match`. */
  waitFor(match: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

function toEvent({ id, event, data }: SseMessage): Omit<SseEvent, 'at'> {
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
  const arrived = new Watched();

  void (async () => {
    try {
      for await (const message of readSse(response.body!)) {
        events.push({ ...toEvent(message), at: performance.now() });
        arrived.changed();
      }
    } catch {
      // aborted by close(), or the server went away: the events so far stay readable
    }
  })();

  return {
    events,
    waitFor(match, timeoutMs = 5_000) {
      return arrived.until(
        () => events.find(match),
        timeoutMs,
        () => `no matching event within ${timeoutMs} ms; got:\n${JSON.stringify(events, null, 1)}`,
      );
    },
    close() {
      abort.abort();
    },
  };
}
