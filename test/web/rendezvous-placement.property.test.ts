import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeOnNode } from '../../src/web/irc-service/rendezvous-placement.ts';

const nodeNames = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/), { minLength: 2, maxLength: 8 });
const serverIds = fc.uniqueArray(fc.integer({ min: 1, max: 2_147_483_647 }), { minLength: 1, maxLength: 200 });

function placements(ids: readonly number[], nodes: readonly string[]): Map<number, string | undefined> {
  return new Map(ids.map((id) => [id, placeOnNode(id, nodes)]));
}

describe('rendezvous placement', () => {
  it('places every server on one of the nodes, whatever their order', () => {
    fc.assert(
      fc.property(serverIds, nodeNames, (ids, nodes) => {
        for (const id of ids) {
          const node = placeOnNode(id, nodes);
          expect(nodes).toContain(node);
          expect(placeOnNode(id, [...nodes].reverse())).toBe(node);
        }
      }),
    );
    expect(placeOnNode(1, [])).toBeUndefined();
  });

  it('moves only the servers of a node that leaves', () => {
    fc.assert(
      fc.property(serverIds, nodeNames, fc.nat(), (ids, nodes, pick) => {
        const leaving = nodes[pick % nodes.length]!;
        const before = placements(ids, nodes);
        const after = placements(
          ids,
          nodes.filter((node) => node !== leaving),
        );
        for (const id of ids) {
          if (before.get(id) !== leaving) expect(after.get(id)).toBe(before.get(id));
          else expect(after.get(id)).not.toBe(leaving);
        }
      }),
    );
  });

  it('gives a joining node only servers it takes from others, about 1/N of them', () => {
    fc.assert(
      fc.property(nodeNames, fc.stringMatching(/^[A-Z][A-Z0-9]{0,7}$/), (nodes, joining) => {
        const ids = Array.from({ length: 3_000 }, (_, index) => index + 1);
        const before = placements(ids, nodes);
        const after = placements(ids, [...nodes, joining]);
        let moved = 0;
        for (const id of ids) {
          if (after.get(id) === before.get(id)) continue;
          // a server moves only onto the new node, never between old ones
          expect(after.get(id)).toBe(joining);
          moved++;
        }
        const share = ids.length / (nodes.length + 1);
        expect(moved).toBeGreaterThan(share * 0.75);
        expect(moved).toBeLessThan(share * 1.25);
      }),
      { numRuns: 30 },
    );
  });

  it('spreads servers evenly over three nodes', () => {
    const nodes = ['node-3001', 'node-3002', 'node-3003'];
    const counts = new Map<string, number>();
    for (let id = 1; id <= 9_000; id++) {
      const node = placeOnNode(id, nodes)!;
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    for (const node of nodes) {
      expect(counts.get(node)).toBeGreaterThan(2_700);
      expect(counts.get(node)).toBeLessThan(3_300);
    }
  });
});
