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

function parseFrame(frame: string): SseEvent | undefined {
  let id: string | undefined;
  let type = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue;
    const separator = line.indexOf(':');
    const field = separator < 0 ? line : line.slice(0, separator);
    const value = separator < 0 ? '' : line.slice(separator + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  const text = data.join('\n');
  try {
    return { id, type, data: JSON.parse(text) };
  } catch {
    return { id, type, data: text };
  }
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}`);
  const events: SseEvent[] = [];
  const listeners = new Set<() => void>();

  void (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let end = buffered.indexOf('\n\n');
        while (end >= 0) {
          const event = parseFrame(buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
          if (event) events.push(event);
          end = buffered.indexOf('\n\n');
        }
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
