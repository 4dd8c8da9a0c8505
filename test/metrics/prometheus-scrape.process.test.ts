import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/process/free-port.ts';
import { startIrcServiceProcess } from '../support/irc-service-process.ts';
import { eventually, type RunningProcess, runCommand } from '../support/process.ts';
import { lacks, PROMETHEUS } from '../support/requirements.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const TOKEN = 'scrape-token-0123456789abcdef';

/** The scrape configuration README.md gives operators (the yaml block that starts `# prometheus.yml`). */
function readmeScrapeConfig(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const config = /```yaml\n(# prometheus\.yml\n[\s\S]*?)```/.exec(readme)?.[1];
  if (!config) throw new Error('README.md has no ```yaml block starting with # prometheus.yml');
  return config;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A real Prometheus, configured as README.md says, scrapes a real IRC service process. */
describe.skipIf(lacks('prometheus'))('Prometheus scraping the IRC service with the README configuration', () => {
  let service: RunningProcess;
  let serviceUrl: string;
  let prometheus: RunningProcess | undefined;
  let folder: Awaited<ReturnType<typeof makeTempDir>>;

  beforeEach(async () => {
    folder = await makeTempDir('prometheus');
    ({ service, url: serviceUrl } = await startIrcServiceProcess(TOKEN));
  });

  afterEach(async () => {
    await prometheus?.kill();
    prometheus = undefined;
    await service.kill();
    await folder.remove();
  });

  it('reaches it with the bearer token: the target is up and its metrics are stored', { timeout: 60_000 }, async () => {
    const serviceAddress = new URL(serviceUrl).host;
    const secrets = join(folder.path, 'secrets');
    await mkdir(secrets);
    await writeFile(join(secrets, 'irc-supervisor-token'), TOKEN);
    await writeFile(join(secrets, 'irc-supervisor-web-password'), 'unused');
    // the README's file, with this test's secrets and addresses; nothing listens where the web side would
    const config = readmeScrapeConfig()
      .replaceAll('/etc/prometheus/', `${secrets}/`)
      .replace("'127.0.0.1:3001'", `'${serviceAddress}'`)
      .replace("'127.0.0.1:3000'", `'127.0.0.1:${await freePort()}'`);
    const configPath = join(folder.path, 'prometheus.yml');
    await writeFile(configPath, `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n${config}`);
    const port = await freePort();

    prometheus = runCommand(
      PROMETHEUS as string,
      [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${join(folder.path, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      {},
    );
    await prometheus.waitForOutput(/Server is ready to receive web requests/);

    const query = async (promql: string): Promise<Sample[]> => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; data: { result: Sample[] } };
      return body.data.result;
    };
    // the first scrape comes within a second; its outcome is the target's `up`
    const firstSample = async (promql: string): Promise<Sample> => {
      const [sample] = await query(promql);
      if (!sample) throw new Error(`no sample yet for ${promql}`);
      return sample;
    };
    const up = await eventually(() => firstSample('up{job="irc-supervisor-irc-service"}'), 20_000);
    const targets = await (await fetch(`http://127.0.0.1:${port}/api/v1/targets`)).text();
    expect(up.value[1], targets).toBe('1');
    const states = await query('irc_supervisor_connections{job="irc-supervisor-irc-service"}');
    expect(states.map((sample) => sample.metric.state).sort()).toEqual(
      ['failed', 'reconnecting', 'socket.connecting', 'socket.disconnecting', 'socket.registered'].sort(),
    );
  });
});
