/** The IRC service's Prometheus metrics: connection states at scrape time, attempts, disconnects and registration time observed from the actors. */
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import {
  type IrcConnectionSnapshot,
  ircConnectionMachine,
  isRegistrationTimeout,
} from '../../machines/irc-connection.machine.ts';
import { createMetricsRegistry, METRIC_PREFIX, sseClientsGauge } from '../shared/prometheus.ts';
import { closeKind } from './close-reasons.ts';

/**
 * Why a socket ended, as a small fixed set (a label value per error message would grow without bound):
 * - `socket_error`: the socket failed (refused, reset, unreachable, TLS), or the client could not write;
 * - `ping_timeout`: the server went silent for longer than IRC_PING_TIMEOUT_MS;
 * - `server_closed`: the server closed the connection (its ERROR line, a restart, a crash);
 * - `registration_timeout`: the socket opened but the server never registered us;
 * - `quit`: we ended it (a disconnect, new settings, shutdown).
 */
export const DISCONNECT_REASONS = [
  'socket_error',
  'ping_timeout',
  'server_closed',
  'registration_timeout',
  'quit',
] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

/** `registered`: the socket got as far as registration; `failed`: it closed (or timed out) before. */
export const ATTEMPT_OUTCOMES = ['registered', 'failed'] as const;

/**
 * The states a live connection can be in: every leaf of the connection machine but its final one (an
 * actor leaves the registry when it stops), so a state added to the machine is counted without a change here.
 */
export const CONNECTION_STATES: readonly string[] = (() => {
  type Node = { type: string; path: string[]; states: Record<string, Node> };
  const leaves: string[] = [];
  const visit = (node: Node) => {
    const children = Object.values(node.states);
    if (children.length === 0) {
      if (node.type !== 'final') leaves.push(node.path.join('.'));
      return;
    }
    for (const child of children) visit(child);
  };
  visit(ircConnectionMachine.root as unknown as Node);
  return leaves;
})();

/**
 * Why the socket of a connection in state `from` ended: `failure` is the `lastError` the machine recorded in the
 * step that ended it (a close, the registration timeout, a crashed client, a fatal reply), or undefined when that
 * step recorded none (our STOP, or new settings, before registration).
 */
export function disconnectReason(from: string | undefined, failure: { message: string } | undefined): DisconnectReason {
  // after our QUIT, however the socket ends, we ended it
  if (from === 'socket.disconnecting' || failure === undefined) return 'quit';
  if (isRegistrationTimeout(failure.message)) return 'registration_timeout';
  // a close's reason as the client actor words it; a crashed client or a fatal reply is the socket's own end
  return closeKind(failure.message);
}

export interface IrcServiceMetricsSources {
  /** The state of each live connection (`socket.registered`, `reconnecting`, ...), read at scrape time. */
  connectionStates(): Iterable<{ state: string }>;
  /** Clients of `/internal/irc/events`. */
  sseClients(): number;
}

/**
 * The IRC service's metrics, in a registry of their own. Gauges are read at scrape time from their
 * sources; counters and the histogram come from `connectionObserver()`, an observer of each connection
 * actor's snapshots that watches its socket (the invoked `client`) come and go. Nothing is counted per
 * HTTP request: the status poll stays as fast as without metrics.
 */
export class IrcServiceMetrics {
  readonly registry: Registry = createMetricsRegistry();
  private readonly attempts: Counter<'outcome'>;
  private readonly disconnects: Counter<'reason'>;
  private readonly registration: Histogram;

  constructor(sources: IrcServiceMetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: `${METRIC_PREFIX}connections`,
      help: 'Connection actors by the state of their machine.',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const counts = new Map(CONNECTION_STATES.map((state) => [state, 0]));
        for (const { state } of sources.connectionStates()) counts.set(state, (counts.get(state) ?? 0) + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    this.attempts = new Counter({
      name: `${METRIC_PREFIX}connection_attempts_total`,
      help: 'Sockets opened to IRC servers, by whether they registered or closed before.',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ATTEMPT_OUTCOMES) this.attempts.inc({ outcome }, 0);
    this.disconnects = new Counter({
      name: `${METRIC_PREFIX}disconnects_total`,
      help: 'Sockets to IRC servers that ended, registered or not, by why.',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of DISCONNECT_REASONS) this.disconnects.inc({ reason }, 0);
    this.registration = new Histogram({
      name: `${METRIC_PREFIX}registration_seconds`,
      help: 'From the start of a socket (a wait for a connect slot included) to registration on the network.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    sseClientsGauge(this.registry, () => sources.sseClients());
  }

  /**
   * An observer of one connection actor's snapshots (the registry calls it with each). Each socket is one
   * invocation of the machine's `client` actor: a new child is an attempt started; its end is a disconnect,
   * classified by the state it ended in and the failure recorded with it (`disconnectReason`); reaching
   * `socket.registered` is a registration. (A connection stopped hard at shutdown, its QUIT unanswered by the
   * deadline, ends with no snapshot: its socket's end is not counted.) Snapshots rather than xstate's inspection: an inspector makes xstate build
   * an inspection event for every action and step of every actor in the system, about 5% of a node's CPU.
   */
  connectionObserver(): (snapshot: IrcConnectionSnapshot) => void {
    let client: unknown;
    let openedAt = 0;
    let registered = false;
    // the previous snapshot's reported state and failure: a registered connection's every IRC event (names, joins,
    // quits) passes here, and should cost a few comparisons
    let state: string | undefined;
    let lastError: unknown;
    return (snapshot) => {
      const current = snapshot.children.client;
      if (client !== undefined && current !== client) {
        const failure =
          snapshot.context.lastError !== lastError ? (snapshot.context.lastError ?? undefined) : undefined;
        const reason = disconnectReason(state, failure);
        this.disconnects.inc({ reason });
        // a socket we ended before it registered was given up, not failed
        if (!registered && reason !== 'quit') this.attempts.inc({ outcome: 'failed' });
      }
      if (current !== undefined && current !== client) {
        openedAt = performance.now();
        registered = false;
      }
      client = current;
      state = snapshot.context.state;
      lastError = snapshot.context.lastError;
      if (!registered && current !== undefined && snapshot.context.state === 'socket.registered') {
        registered = true;
        this.attempts.inc({ outcome: 'registered' });
        this.registration.observe((performance.now() - openedAt) / 1_000);
      }
    };
  }
}
