import { describe, expect, it } from 'vitest';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { readSse, readSseBatches, type SseMessage } from '../../src/shared/sse/sse-reader.ts';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>, count = Number.POSITIVE_INFINITY): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readSse(body)) {
    messages.push(message);
    if (messages.length >= count) break;
  }
  return messages;
}

describe('readSse', () => {
  it('parses events split across chunks, skipping comments and joining data lines', async () => {
    const messages = await collect(
      streamOf(
        'retry: 1000\n\n: heartbeat\n\nid: a-1\nevent: conn',
        'ected\ndata: {"serverId":1}\n\r\n',
        'data: x\ndata: y\n\n',
      ),
    );
    expect(messages).toEqual([
      { id: 'a-1', event: 'connected', data: '{"serverId":1}' },
      { id: 'a-1', event: 'message', data: 'x\ny' },
    ]);
  });

  it('reads what EventStream writes, with its ids', async () => {
    const stream = new EventStream<{ joined: { serverId: number; channel: string } }>({
      bootId: 'boot',
      heartbeatMs: 0,
    });
    const response = stream.response();
    stream.publish('joined', { serverId: 2, channel: '#a' });
    stream.publish('joined', { serverId: 2, channel: '#b' });

    const messages = await collect(response.body!, 2);

    expect(messages).toEqual([
      { id: 'boot-1', event: 'joined', data: '{"serverId":2,"channel":"#a"}' },
      { id: 'boot-2', event: 'joined', data: '{"serverId":2,"channel":"#b"}' },
    ]);
    stream.close();
  });
});

describe('readSseBatches', () => {
  it('yields together the messages that end in the same chunk, each as readSse reads it', async () => {
    const batches: SseMessage[][] = [];
    const body = streamOf(
      'id: a-1\nevent: x\ndata: 1\n\nid: a-2\nevent: y\ndata: 2\n\nid: a-3\nev',
      'ent: z\ndata: 3\n\n: heartbeat\n\n',
      ': heartbeat\n\n',
      'id: a-4\ndata: 4\n\n',
    );
    for await (const batch of readSseBatches(body)) batches.push(batch);

    expect(batches).toEqual([
      [
        { id: 'a-1', event: 'x', data: '1' },
        { id: 'a-2', event: 'y', data: '2' },
      ],
      [{ id: 'a-3', event: 'z', data: '3' }],
      [{ id: 'a-4', event: 'message', data: '4' }],
    ]);
  });
});
