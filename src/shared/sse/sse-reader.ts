/** One message of a server-sent-events stream. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Reads server-sent events from a response body, as the EventSource spec parses them: `event`, `data`
 * (multi-line joined with \n), `id`, comments ignored, a blank line ends a message.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  for await (const batch of readSseBatches(body)) yield* batch;
}

/**
 * Reads server-sent events as `readSse` does, yielding together the messages that ended in the same chunk of
 * the body (chunks with none yield nothing). A reader busy with a batch lets the next chunk grow meanwhile, so
 * under load batches grow by themselves, while a lone message still comes at once.
 */
export async function* readSseBatches(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage[]> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    const batch: SseMessage[] = [];
    let newline = buffer.search(/\r\n|\r|\n/);
    while (newline !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      newline = buffer.search(/\r\n|\r|\n/);
      if (line === '') {
        if (data.length > 0) batch.push({ id, event: event || 'message', data: data.join('\n') });
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id' && !value.includes('\0')) id = value;
    }
    if (batch.length > 0) yield batch;
  }
}
