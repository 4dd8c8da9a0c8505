/**
 * `npm run bench [-- --size tiny|full] [--only P1,P4]`: runs each benchmark, prints a table of
 * figures as ratios to floors measured in the same run, and writes it to test/bench/results/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { withDatabase } from '../../src/db/database-url.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { NGIRCD } from '../support/requirements.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import type { BenchFigure } from './bench-types.ts';
import { benchmarks } from './benchmarks.ts';
import { formatTable } from './format-table.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'full' },
    only: { type: 'string' },
    out: { type: 'string', default: 'test/bench/results' },
  },
});
if (values.size !== 'full' && values.size !== 'tiny') {
  console.error(`bench: --size must be tiny or full (got ${values.size})`);
  process.exit(2);
}
const size = values.size;
const wanted = values.only?.split(',').map((id) => id.trim().toUpperCase());
const selected = benchmarks.filter((benchmark) => !wanted || wanted.includes(benchmark.id));
if (selected.length === 0) {
  console.error(`bench: no benchmark matches --only ${values.only}; known: ${benchmarks.map((b) => b.id).join(', ')}`);
  process.exit(2);
}

const progress = (message: string) => process.stderr.write(`\r\x1b[2K${message}`);

let adminUrl = process.env.DATABASE_URL ? withDatabase(process.env.DATABASE_URL, 'postgres') : undefined;
let stopEmbedded: (() => Promise<void>) | undefined;
let removeTemp: (() => Promise<void>) | undefined;
if (!adminUrl) {
  progress('starting an embedded PostgreSQL for the benchmarks');
  const dir = await makeTempDir('irc-supervisor-bench');
  removeTemp = dir.remove;
  const embedded = await startEmbeddedPostgres({ dataDir: dir.path, database: 'postgres', ephemeral: true });
  adminUrl = embedded.adminUrl;
  stopEmbedded = embedded.stop;
}

const figures: BenchFigure[] = [];
const skipped: string[] = [];
try {
  for (const benchmark of selected) {
    if (benchmark.needs?.includes('ngircd') && !NGIRCD) {
      skipped.push(`${benchmark.id} (${benchmark.title}): needs ngircd, which is not installed`);
      continue;
    }
    progress(`${benchmark.id} ${benchmark.title}…`);
    figures.push(...(await benchmark.run({ size, progress, adminUrl })));
  }
} finally {
  progress('');
  await stopEmbedded?.();
  await removeTemp?.();
}

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const table = formatTable(figures);
const skippedNote = skipped.length > 0 ? `\nSkipped:\n${skipped.map((line) => `- ${line}`).join('\n')}\n` : '';
const report = `# Benchmark results (${size})\n\n${new Date().toISOString()} on ${machine}\n\n${table}\n${skippedNote}`;
console.log(`\n${report}`);
await mkdir(values.out, { recursive: true });
await writeFile(`${values.out}/latest-${size}.md`, report);
await writeFile(`${values.out}/latest-${size}.json`, `${JSON.stringify({ machine, size, figures }, null, 2)}\n`);
console.log(`written to ${values.out}/latest-${size}.md`);
process.exitCode = figures.every((figure) => figure.ok) ? 0 : 1;
