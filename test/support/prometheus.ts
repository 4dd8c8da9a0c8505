/**
 * Reads a Prometheus text exposition in tests: sample values by name and labels, the metric families and
 * their types, and Prometheus's own parser (`promtool check metrics`) over the whole text.
 */
import { spawn } from 'node:child_process';
import { eventually } from './process.ts';
import { PROMTOOL } from './requirements.ts';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample line of the exposition (comments skipped). */
export function samples(exposition: string): Sample[] {
  const found: Sample[] = [];
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = value as string;
    }
    found.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return found;
}

/** The value of the one sample with this name whose labels include `labels`; undefined when there is none. */
export function sampleValue(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(exposition).find(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value;
}

/** Scrapes until the exposition satisfies `holds` (counters that another process or a stream moves), and answers it. */
export async function scrapeUntil(
  scrape: () => Promise<string>,
  holds: (exposition: string) => boolean,
  timeoutMs?: number,
): Promise<string> {
  let last = '';
  await eventually(async () => {
    last = await scrape();
    return holds(last);
  }, timeoutMs);
  return last;
}

/** Metric family name -> type, from the `# TYPE` lines. */
export function metricTypes(exposition: string): Map<string, string> {
  return new Map(
    [...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1] as string, match[2] as string]),
  );
}

/**
 * prom-client's default metrics that promtool's linter flags (gauges ending in `_total`); they keep their
 * standard names so the usual Node.js dashboards read them. Anything else it flags is a real finding.
 */
const PROM_CLIENT_DEFAULTS_FLAGGED = new Set([
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]);

/**
 * Runs `promtool check metrics` on the exposition. Resolves with the problems it reports, leaving out
 * its lint notes on prom-client's default metrics; rejects when it cannot parse the text at all.
 */
export async function promtoolProblems(exposition: string): Promise<string[]> {
  if (!PROMTOOL) throw new Error("promtool is not installed; guard the test with describe.skipIf(lacks('promtool'))");
  const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stdin.end(exposition);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  // 0: clean; 3: parsed, with lint findings (one per line); anything else: it could not read the text
  if (code !== 0 && code !== 3) throw new Error(`promtool check metrics exited ${code}:\n${output}`);
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !PROM_CLIENT_DEFAULTS_FLAGGED.has(line.split(' ')[0] as string));
}
