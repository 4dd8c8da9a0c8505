/**
 * The web side's HTTP API as an operator's script uses it, for tests against the real web process.
 * Every call fails loudly with the answer's body when the status is not the expected one.
 */
import type { HealthCheckReport } from '../../src/shared/health-check-report.ts';
import type { HealthState } from '../../src/web/health/health-supervisor.ts';
import { eventually } from './process.ts';

async function call<T>(url: string, init: RequestInit, expected: number): Promise<T> {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
  });
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${init.method ?? 'GET'} ${url} answered ${response.status}, expected ${expected}: ${text}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface HealthView {
  state: HealthState;
  lastReport: HealthCheckReport | null;
}

export function webApi(baseUrl: string) {
  const health = () => call<HealthView>(`${baseUrl}/api/health-check`, {}, 200);
  const waitForHealth = async (accept: (health: HealthView) => boolean, timeoutMs: number): Promise<HealthView> => {
    let seen: HealthView | undefined;
    await eventually(async () => {
      seen = await health();
      return seen.lastReport !== null && accept(seen);
    }, timeoutMs);
    return seen!;
  };
  return {
    async createServer(server: {
      host: string;
      port: number;
      nickname: string;
      name?: string;
      tls?: boolean;
    }): Promise<number> {
      const view = await call<{ id: number }>(
        `${baseUrl}/api/servers`,
        { method: 'POST', body: JSON.stringify({ name: server.name ?? server.nickname, tls: false, ...server }) },
        201,
      );
      return view.id;
    },
    connect: (serverId: number) => call(`${baseUrl}/api/servers/${serverId}/connect`, { method: 'POST' }, 202),
    join: (serverId: number, name: string) =>
      call(`${baseUrl}/api/servers/${serverId}/channels`, { method: 'POST', body: JSON.stringify({ name }) }, 202),
    health,
    /** Runs a check now through the supervisor (shared with a running one) and answers its report. */
    checkNow: () => call<HealthCheckReport>(`${baseUrl}/api/health-check`, { method: 'POST' }, 200),
    /** Resolves once the supervisor has a report and is not checking (the boot check is done). */
    settled: (timeoutMs = 10_000) => waitForHealth((health) => health.state !== 'checking', timeoutMs),
    /** Resolves once the supervisor is in `state` with a report. */
    waitForState: (state: HealthState, timeoutMs = 10_000) =>
      waitForHealth((health) => health.state === state, timeoutMs),
  };
}

export type WebApi = ReturnType<typeof webApi>;
