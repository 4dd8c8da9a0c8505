import { describe, expect, it } from 'vitest';
import type { ConnectionRequest } from '../../src/shared/irc-service-contract.ts';
import { BadServiceAnswer } from '../../src/web/irc-service/errors/bad-service-answer.ts';
import { ServiceUnavailable } from '../../src/web/irc-service/errors/service-unavailable.ts';
import { HandOverBatcher, type HandOverClient } from '../../src/web/irc-service/hand-over-batcher.ts';

const request: ConnectionRequest = { host: 'irc.example.net', port: 6667, nickname: 'n' };

/** A node's client that records each request it gets; `batch` answers a batch's entries (all taken by default). */
function recordingClient(batch?: (serverIds: number[]) => Promise<Array<BadServiceAnswer | undefined>>) {
  const requests: Array<{ kind: 'single' | 'batch'; serverIds: number[] }> = [];
  const client: Required<HandOverClient> = {
    async connect(serverId) {
      requests.push({ kind: 'single', serverIds: [serverId] });
    },
    async connectMany(entries) {
      const serverIds = entries.map((entry) => entry.serverId);
      requests.push({ kind: 'batch', serverIds });
      return batch ? batch(serverIds) : serverIds.map(() => undefined);
    },
  };
  return { client, requests };
}

const outcomes = (promises: Array<Promise<void>>) =>
  Promise.allSettled(promises).then((settled) => settled.map((result) => result.status));

describe('HandOverBatcher', () => {
  it('sends the connects of one turn to each node in one request, and a lone connect as the single PUT', async () => {
    const a = recordingClient();
    const b = recordingClient();
    const batcher = new HandOverBatcher();

    await Promise.all([1, 2, 3].map((id) => batcher.connect(a.client, id, request)));
    await Promise.all([batcher.connect(b.client, 4, request), batcher.connect(a.client, 5, request)]);

    expect(a.requests).toEqual([
      { kind: 'batch', serverIds: [1, 2, 3] },
      { kind: 'single', serverIds: [5] },
    ]);
    expect(b.requests).toEqual([{ kind: 'single', serverIds: [4] }]);
  });

  it('splits a turn larger than its limit into several requests, in order', async () => {
    const node = recordingClient();
    const batcher = new HandOverBatcher(2);

    await Promise.all([1, 2, 3, 4, 5].map((id) => batcher.connect(node.client, id, request)));

    expect(node.requests).toEqual([
      { kind: 'batch', serverIds: [1, 2] },
      { kind: 'batch', serverIds: [3, 4] },
      { kind: 'single', serverIds: [5] },
    ]);
  });

  it("rejects only the entries the node refused, each with the node's own reason", async () => {
    const refusal = new BadServiceAnswer('the IRC service answered 400 (nickname: must be a valid IRC nickname)', 400);
    const node = recordingClient(async (ids) => ids.map((id) => (id === 2 ? refusal : undefined)));
    const batcher = new HandOverBatcher();
    const connects = [1, 2, 3].map((id) => batcher.connect(node.client, id, request));

    expect(await outcomes(connects)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await expect(connects[1]).rejects.toBe(refusal);
  });

  it('rejects every entry with the error of a request that failed as a whole', async () => {
    const down = new ServiceUnavailable('the IRC service is unreachable (ECONNREFUSED)');
    const node = recordingClient(() => Promise.reject(down));
    const batcher = new HandOverBatcher();
    const connects = [1, 2].map((id) => batcher.connect(node.client, id, request));

    expect(await outcomes(connects)).toEqual(['rejected', 'rejected']);
    await expect(connects[0]).rejects.toBe(down);
  });

  it('hands over one at a time to a node without the batch route (404), from then on', async () => {
    const node = recordingClient(() => Promise.reject(new BadServiceAnswer('the IRC service answered 404', 404)));
    const batcher = new HandOverBatcher();

    await Promise.all([1, 2].map((id) => batcher.connect(node.client, id, request)));
    await Promise.all([3, 4].map((id) => batcher.connect(node.client, id, request)));

    expect(node.requests).toEqual([
      { kind: 'batch', serverIds: [1, 2] },
      { kind: 'single', serverIds: [1] },
      { kind: 'single', serverIds: [2] },
      { kind: 'single', serverIds: [3] },
      { kind: 'single', serverIds: [4] },
    ]);
  });

  it('hands a batch over one at a time when a node refuses its size (413, a node from before the batch route)', async () => {
    let refusals = 0;
    const node = recordingClient(() => {
      refusals += 1;
      return Promise.reject(new BadServiceAnswer('the IRC service answered 413 (body: too large)', 413));
    });
    const batcher = new HandOverBatcher();

    await Promise.all([1, 2].map((id) => batcher.connect(node.client, id, request)));
    await Promise.all([3, 4].map((id) => batcher.connect(node.client, id, request)));

    // each batch goes again one at a time; the next batch is tried as a batch (a smaller one may fit)
    expect(node.requests.map((sent) => `${sent.kind} ${sent.serverIds}`)).toEqual([
      'batch 1,2',
      'single 1',
      'single 2',
      'batch 3,4',
      'single 3',
      'single 4',
    ]);
    expect(refusals).toBe(2);
  });

  it('hands over one at a time to a client that has no batch call', async () => {
    const { client, requests } = recordingClient();
    const batcher = new HandOverBatcher();

    await Promise.all([1, 2].map((id) => batcher.connect({ connect: client.connect }, id, request)));

    expect(requests).toEqual([
      { kind: 'single', serverIds: [1] },
      { kind: 'single', serverIds: [2] },
    ]);
  });
});
