import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import type { IrcClientCommand, IrcClientInput } from '../../machines/irc-connection.machine.ts';
import { createIrcServiceApp } from '../../src/irc-service/app.ts';
import { IrcConnectionRegistry, type IrcEventMap } from '../../src/irc-service/irc-connection-registry.ts';
import { IrcServiceMetrics } from '../../src/irc-service/irc-metrics.ts';
import { EventStream } from '../../src/shared/sse/event-stream.ts';
import { WebMetrics } from '../../src/web/metrics/web-metrics.ts';
import { metricTypes, promtoolProblems, samples } from '../support/prometheus.ts';
import { lacks } from '../support/requirements.ts';

const TOKEN = 'readme-token-0123456789abcdef';

/** A socket whose server registers it at once. */
const registeringClient = fromCallback<IrcClientCommand, IrcClientInput>(({ input, sendBack }) => {
  sendBack({ type: 'REGISTERED', nickname: input.settings.nickname });
});

interface DocumentedMetric {
  side: 'IRC service' | 'web';
  name: string;
  type: string;
  label: string | undefined;
  values: string[];
}

/** The rows of README.md's metrics table (between its markers): side, metric, type, label and its values. */
function documentedMetrics(): DocumentedMetric[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = /<!-- metrics:begin -->\n([\s\S]*?)<!-- metrics:end -->/.exec(readme)?.[1];
  if (!table) throw new Error('README.md has no <!-- metrics:begin --> … <!-- metrics:end --> table');
  return table
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter((cells) => /^`irc_supervisor_/.test(cells[2] ?? ''))
    .map(([, side, metric, type, labels]) => {
      const labelMatch = /^`([a-z_]+)`:\s*(.*)$/.exec(labels ?? '');
      return {
        side: side as DocumentedMetric['side'],
        name: (metric ?? '').replaceAll('`', ''),
        type: type ?? '',
        label: labelMatch?.[1],
        values: [...(labelMatch?.[2] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1] as string),
      };
    });
}

/** What `GET /metrics` answers on each side, assembled as main.ts assembles them. */
async function expositions(): Promise<Record<DocumentedMetric['side'], string>> {
  const ircEvents = new EventStream<IrcEventMap>({ heartbeatMs: 0 });
  const registry = new IrcConnectionRegistry({
    clientLogic: registeringClient,
    onEvent: () => {},
    observe: () => ircMetrics.connectionObserver(),
  });
  const ircMetrics = new IrcServiceMetrics({
    connectionStates: () => registry.connectionStates(),
    sseClients: () => ircEvents.clientCount,
  });
  const app = createIrcServiceApp({ registry, events: ircEvents, token: TOKEN, metrics: ircMetrics });
  registry.put(1, { settings: { host: 'irc.example.net', port: 6667, tls: false, nickname: 'readme' } });
  const irc = await (await app.request('/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
  await registry.stopAll(100);
  ircEvents.close();
  const web = await new WebMetrics({ sseClients: () => 0 }).registry.metrics();
  return { 'IRC service': irc, web };
}

describe('README.md metrics table', () => {
  const documented = documentedMetrics();
  let exposed: Record<DocumentedMetric['side'], string>;

  beforeAll(async () => {
    exposed = await expositions();
  });

  it('lists the metrics of the issue on the sides they belong to', () => {
    const irc = documented.filter((row) => row.side === 'IRC service').map((row) => row.name);
    const web = documented.filter((row) => row.side === 'web').map((row) => row.name);

    expect(irc).toEqual(
      expect.arrayContaining([
        'irc_supervisor_connections',
        'irc_supervisor_connection_attempts_total',
        'irc_supervisor_disconnects_total',
        'irc_supervisor_registration_seconds',
        'irc_supervisor_sse_clients',
      ]),
    );
    expect(web).toEqual(
      expect.arrayContaining([
        'irc_supervisor_health_checks_total',
        'irc_supervisor_health_check_duration_seconds',
        'irc_supervisor_health_check_disconnected_total',
        'irc_supervisor_health_supervisor_state',
        'irc_supervisor_sse_clients',
        'irc_supervisor_irc_events_applied_total',
      ]),
    );
  });

  it('gives each metric the type the exposition declares, with every label value documented exported', () => {
    for (const row of documented) {
      const text = exposed[row.side];
      expect(metricTypes(text).get(row.name), `${row.side} ${row.name}`).toBe(row.type);
      if (!row.label) continue;
      const exportedValues = samples(text)
        .filter((sample) => sample.name === row.name)
        .map((sample) => sample.labels[row.label as string]);
      expect(exportedValues.sort(), `${row.side} ${row.name}{${row.label}}`).toEqual([...row.values].sort());
    }
  });

  it('documents every metric of the project each side exports', () => {
    for (const side of ['IRC service', 'web'] as const) {
      const names = documented.filter((row) => row.side === side).map((row) => row.name);
      const families = [...metricTypes(exposed[side]).keys()].filter((name) => name.startsWith('irc_supervisor_'));

      expect(families.sort(), side).toEqual(names.sort());
    }
  });

  it('exports the default process metrics under their standard names', () => {
    for (const side of ['IRC service', 'web'] as const) {
      const types = metricTypes(exposed[side]);
      expect(types.get('process_cpu_seconds_total'), side).toBe('counter');
      expect(types.get('process_resident_memory_bytes'), side).toBe('gauge');
      expect(types.get('nodejs_eventloop_lag_seconds'), side).toBe('gauge');
    }
  });

  it.skipIf(lacks('promtool'))(
    'is an exposition Prometheus parses, on both sides (promtool check metrics)',
    async () => {
      expect(await promtoolProblems(exposed['IRC service'])).toEqual([]);
      expect(await promtoolProblems(exposed.web)).toEqual([]);
    },
  );
});
