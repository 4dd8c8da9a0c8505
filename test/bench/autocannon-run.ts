/** Drives HTTP load with autocannon from a process of its own and reads back its figures. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { PROJECT_ROOT } from '../support/process.ts';

export interface LoadResult {
  /** Mean requests per second over the run. */
  requestsPerSecond: number;
  requests: number;
  non2xx: number;
  errors: number;
}

export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  /** Seconds of load; or `amount` requests when set. */
  durationSeconds?: number;
  amount?: number;
}

/** Runs autocannon's CLI in a Node process of its own (so the load does not share the server's event loop). */
export function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const args = [cli, '--json', '--no-progress', '-c', String(options.connections)];
  if (options.amount !== undefined) args.push('-a', String(options.amount));
  else args.push('-d', String(options.durationSeconds ?? 5));
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`);
  args.push(options.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
    const limit = ((options.durationSeconds ?? 5) + 30) * 1_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), limit);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`autocannon exited with ${code}`);
        const result = JSON.parse(stdout) as {
          requests: { average: number; total: number };
          duration: number;
          non2xx: number;
          errors: number;
        };
        resolve({
          requestsPerSecond: result.requests.total / result.duration,
          requests: result.requests.total,
          non2xx: result.non2xx,
          errors: result.errors,
        });
      } catch (error) {
        reject(new Error(`autocannon failed: ${(error as Error).message}\n${stderr}\n${stdout.slice(0, 500)}`));
      }
    });
  });
}
