/**
 * What a test of IRC service nodes reads: where the database places each server, and what each node
 * holds by its own account.
 */
import { expect } from 'vitest';
import { eventually } from './process.ts';
import { nodeName, type SideProcess, type System } from './system.ts';

/** A server as the database places it; connected_at as text, so that a new registration shows as a change. */
export interface Placement {
  id: number;
  irc_node: string | null;
  connected_at: string | null;
}

/** Every server's placement, by id. */
export function placements(system: System): Promise<Placement[]> {
  return system.db.query<Placement>(
    `select id, irc_node, to_json(connected_at) #>> '{}' as connected_at from servers order by id`,
  );
}

/** Waits until the database shows every server connected. */
export async function everyServerConnected(system: System, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => (await placements(system)).every((row) => row.connected_at !== null), timeoutMs);
}

/** A node's own list of registered connections (`/internal/irc/status`). */
export async function liveOn(system: System, node: SideProcess): Promise<number[]> {
  const response = await system.internalFetch(`${node.url}/internal/irc/status`);
  return (await response.json()).connections;
}

/** Each server is registered on exactly one of `nodes`: the one `placed` puts it on. */
export async function expectRegisteredWherePlaced(
  system: System,
  nodes: readonly SideProcess[],
  placed: readonly Placement[],
): Promise<void> {
  const lists = await Promise.all(nodes.map((node) => liveOn(system, node)));
  expect(lists.flat().sort((a, b) => a - b)).toEqual(placed.map((row) => row.id));
  nodes.forEach((node, index) => {
    expect(lists[index], nodeName(node)).toEqual(
      placed.filter((row) => row.irc_node === nodeName(node)).map((row) => row.id),
    );
  });
}
