/**
 * Where P5's bytes go: `npx tsx test/bench/p5-where-bytes-go.ts [count]` opens `count` (1,000) connections to a
 * fresh ngircd in a fresh process for each variant (bare irc-framework clients; the project with its parts
 * left out one by one: metrics, the event stream), prints heap and RSS per registered connection for each,
 * then a heap snapshot of the bare and of the whole project, the difference per connection by what the
 * bytes are (constructor or closure name, grouped). Not part of `npm run bench`: it explains P5, it does
 * not judge it. The table in test/bench/RESULTS.md comes from it.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.ts';
import { runIrcClients } from './irc-clients-run.ts';

const count = Number(process.argv[2] ?? 1_000);
const KIB = 1_024;

interface Variant {
  name: string;
  mode: 'bare' | 'project';
  off: string;
}

const variants: Variant[] = [
  { name: 'bare irc-framework clients (the floor)', mode: 'bare', off: '' },
  {
    name: 'machine actors and registry, client actor cut down to a bare client',
    mode: 'project',
    off: 'metrics,events,client',
  },
  { name: 'project without metrics and event stream', mode: 'project', off: 'metrics,events' },
  { name: 'project without metrics', mode: 'project', off: 'metrics' },
  { name: 'project (as the IRC service runs it)', mode: 'project', off: '' },
];

/** Self sizes of a heap snapshot summed by what each node is: `type name` (a constructor, a closure's name...). */
async function bytesByKind(file: string): Promise<Map<string, number>> {
  const snapshot = JSON.parse(await readFile(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [
    number,
    number,
    number,
  ];
  const sums = new Map<string, number>();
  for (let index = 0; index < snapshot.nodes.length; index += fields.length) {
    const type = types[snapshot.nodes[index + typeAt]!]!;
    let name = snapshot.strings[snapshot.nodes[index + nameAt]!]!;
    // strings and numbers by their type only; the rest by constructor or function name
    if (['string', 'concatenated string', 'sliced string', 'number', 'heap number'].includes(type)) name = '';
    if (type === 'hidden' || type === 'code' || type === 'array') name = name.replace(/\d+/g, 'N').slice(0, 60);
    const kind = `${type} ${name}`.trim();
    sums.set(kind, (sums.get(kind) ?? 0) + snapshot.nodes[index + sizeAt]!);
  }
  return sums;
}

/** The kinds that differ by at least 16 B per connection between two snapshots, largest first. */
function printDifference(title: string, more: Map<string, number>, less: Map<string, number>): void {
  const kinds = new Set([...more.keys(), ...less.keys()]);
  const differences = [...kinds]
    .map((kind) => ({ kind, bytes: ((more.get(kind) ?? 0) - (less.get(kind) ?? 0)) / count }))
    .filter(({ bytes }) => Math.abs(bytes) >= 16)
    .sort((a, b) => b.bytes - a.bytes);
  const total = differences.reduce((sum, { bytes }) => sum + bytes, 0);
  console.log(`\nheap snapshot, ${title}, bytes per connection (kinds of at least 16 B; sum ${total.toFixed(0)} B):\n`);
  console.log('| kind (snapshot type and name) | bytes per connection |\n| --- | --- |');
  for (const { kind, bytes } of differences.slice(0, 40)) console.log(`| \`${kind}\` | ${bytes.toFixed(0)} |`);
}

const folder = await makeTempDir('p5-where-bytes-go');
try {
  const rows: string[] = [];
  const snapshots = new Map<string, string>();
  for (const [index, variant] of variants.entries()) {
    process.env.BENCH_CONNECTION_PARTS_OFF = variant.off;
    const snapshot = join(folder.path, `${index}.heapsnapshot`);
    const keep = index <= 1 || index === variants.length - 1;
    if (keep) process.env.BENCH_HEAP_SNAPSHOT = snapshot;
    else delete process.env.BENCH_HEAP_SNAPSHOT;
    process.stderr.write(`${variant.name}…\n`);
    const run = await runIrcClients(variant.mode, { count, limit: 8, deadlineMs: 60_000 });
    if (run.registered !== count) throw new Error(`${variant.name}: ${run.registered} of ${count} registered`);
    if (keep) snapshots.set(String(index), snapshot);
    rows.push(
      `| ${variant.name} | ${(run.heapPerConnection / KIB).toFixed(1)} KiB | ${(run.rssPerConnection / KIB).toFixed(1)} KiB |`,
    );
  }
  console.log(`\n${count} registered connections, per connection, after GC over each process's baseline:\n`);
  console.log('| variant | heap | RSS |\n| --- | --- | --- |');
  console.log(rows.join('\n'));

  const [bare, minimal, project] = await Promise.all(
    ['0', '1', String(variants.length - 1)].map((key) => bytesByKind(snapshots.get(key)!)),
  );
  printDifference('machine actors and registry (client cut down) minus bare', minimal!, bare!);
  printDifference('project minus machine actors and registry (client cut down)', project!, minimal!);
} finally {
  await rm(folder.path, { recursive: true, force: true });
  await folder.remove();
}
