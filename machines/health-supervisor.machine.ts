/**
 * The supervisor of one IRC service node: runs that node's connection health check on start, then every
 * `checkInterval`. The cluster supervisor (`cluster-supervisor.machine.ts`) spawns one per node.
 *
 * `checking` invokes the injected `check` actor (the `ConnectionHealthCheckJob`); an answered check
 * leads to `healthy`, anything else (unreachable, unknown, unauthorized, a database failure) to
 * `degraded`. `CHECK_NOW` checks at once from `healthy` or `degraded`; during `checking` it is ignored
 * on purpose, so concurrent requests share the running check (the wiring answers them all with the
 * `checked` event it emits). The count of consecutive unknown results lives in the context: once it
 * reaches `failureThreshold` the check is asked to treat an unknown result as unavailable. `stopped`
 * is final.
 *
 * The machine is pure: the check comes in through `machine.provide({ actors: { check } })`, time is
 * the named delay `checkInterval`, and results leave through xstate's `emit`.
 */
import { assign, emit, fromPromise, setup } from 'xstate';
import type { HealthCheckReport, PerformOptions } from '../src/shared/health-check-report.ts';

export interface HealthSupervisorInput {
  /** `HEALTH_CHECK_FAILURE_THRESHOLD`: unknown results in a row before they count as unavailable. */
  failureThreshold: number;
  /** The IRC service node this supervisor checks (a child of the cluster supervisor); passed on to each check. */
  node?: string;
}

export interface HealthSupervisorContext {
  failureThreshold: number;
  node: string | undefined;
  consecutiveUnknown: number;
  lastReport: HealthCheckReport | null;
  /** Message of the last check that failed outright (the check actor rejected), until the next report. */
  lastFailure: string | null;
}

export type HealthSupervisorEvent = { type: 'CHECK_NOW' } | { type: 'STOP' };

export type HealthSupervisorEmitted =
  | { type: 'checked'; report: HealthCheckReport }
  | { type: 'check-failed'; error: unknown };

export const healthSupervisorMachine = setup({
  types: {
    input: {} as HealthSupervisorInput,
    context: {} as HealthSupervisorContext,
    events: {} as HealthSupervisorEvent,
    emitted: {} as HealthSupervisorEmitted,
  },
  actors: {
    check: fromPromise<HealthCheckReport, PerformOptions>(() =>
      Promise.reject(new Error('the check actor is provided where the supervisor is assembled')),
    ),
  },
  delays: { checkInterval: 30_000 },
  guards: {
    isHealthy: (_, params: { report: HealthCheckReport }) =>
      params.report.outcome === 'answered' && params.report.error === null,
  },
  actions: {
    recordReport: assign(({ context }, params: { report: HealthCheckReport }) => ({
      lastReport: params.report,
      lastFailure: null,
      consecutiveUnknown: params.report.outcome === 'unknown' ? context.consecutiveUnknown + 1 : 0,
    })),
    announceReport: emit((_, params: { report: HealthCheckReport }) => ({
      type: 'checked' as const,
      report: params.report,
    })),
    recordFailure: assign((_, params: { error: unknown }) => ({
      lastFailure: params.error instanceof Error ? params.error.message : String(params.error),
    })),
    announceFailure: emit((_, params: { error: unknown }) => ({ type: 'check-failed' as const, error: params.error })),
  },
}).createMachine({
  id: 'healthSupervisor',
  description:
    "The supervisor of one IRC service node (a child of the cluster supervisor): `checking` runs that node's connection health check (the invoked `check` actor) on start and again every `checkInterval` after the last one ended. A check that the node answered leads to `healthy`; any other result (unreachable, unknown, unauthorized, or a check that failed outright) leads to `degraded`. `CHECK_NOW` checks at once from `healthy` or `degraded`; during `checking` it is ignored, so concurrent requests share the running check. Consecutive unknown results are counted: from `failureThreshold` on, the check treats an unknown result as unavailable. `STOP` ends in the final state `stopped` from any state.",
  context: ({ input }) => ({
    failureThreshold: input.failureThreshold,
    node: input.node,
    consecutiveUnknown: 0,
    lastReport: null,
    lastFailure: null,
  }),
  initial: 'checking',
  on: { STOP: '.stopped' },
  states: {
    checking: {
      invoke: {
        src: 'check',
        id: 'check',
        input: ({ context }) => ({
          ...(context.node === undefined ? {} : { node: context.node }),
          treatUnknownAsUnavailable: context.consecutiveUnknown + 1 >= context.failureThreshold,
        }),
        onDone: [
          {
            guard: { type: 'isHealthy', params: ({ event }) => ({ report: event.output }) },
            target: 'healthy',
            actions: [
              { type: 'recordReport', params: ({ event }) => ({ report: event.output }) },
              { type: 'announceReport', params: ({ event }) => ({ report: event.output }) },
            ],
          },
          {
            target: 'degraded',
            actions: [
              { type: 'recordReport', params: ({ event }) => ({ report: event.output }) },
              { type: 'announceReport', params: ({ event }) => ({ report: event.output }) },
            ],
          },
        ],
        onError: {
          target: 'degraded',
          actions: [
            { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
            { type: 'announceFailure', params: ({ event }) => ({ error: event.error }) },
          ],
        },
      },
    },
    healthy: {
      on: { CHECK_NOW: 'checking' },
      after: { checkInterval: 'checking' },
    },
    degraded: {
      on: { CHECK_NOW: 'checking' },
      after: { checkInterval: 'checking' },
    },
    stopped: { type: 'final' },
  },
});

export type HealthSupervisorState = 'checking' | 'healthy' | 'degraded' | 'stopped';
