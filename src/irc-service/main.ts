/** Entry point of the IRC service process: reads the configuration, wires the registry and serves the app. */
import { serve } from '@hono/node-server';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { machineTransitionLogger } from '../machine-logging.ts';
import { listen } from '../process/listen.ts';
import { runMain } from '../process/run-main.ts';
import type { IrcEvent } from '../shared/irc-events.ts';
import { EventStream } from '../shared/sse/event-stream.ts';
import { createIrcServiceApp } from './app.ts';
import { ConnectThrottle } from './connect-throttle.ts';
import { createIrcClientActor } from './irc-client.actor.ts';
import { IrcConnectionRegistry, type IrcEventMap } from './irc-connection-registry.ts';
import { IrcServiceMetrics } from './irc-metrics.ts';

/** Within runMain's 5 s: QUIT and wait for the servers, then close streams and the listener. */
const QUIT_DEADLINE_MS = 3_500;

/**
 * The least time between two writes of `/internal/irc/events`. In a burst (a failover hands a node hundreds of
 * connections) each registration's events would otherwise leave on a turn of their own, and the web side applies
 * each piece as a step: one statement and one NOTIFY each. Measured on the failover benchmark (P7, three runs each
 * way): 401 statements instead of 812, the web side's CPU 0.8–1.0 s instead of 1.1–1.5 s. An event after a quiet
 * spell still leaves at once; one that follows another within this time waits for it: a drain's move, which waits
 * for the new connection's `joined` just after its `connected`, takes about 25 ms longer (the drain fault test: 3.2
 * to 3.4 s instead of 3.1 s). Checks and the disconnect transition do not read this stream, and a dropped stream
 * is seen at once.
 */
const EVENTS_COALESCE_MS = 20;

await runMain('irc-service', async (onShutdown) => {
  const config = loadConfig(process.env, 'irc');
  const logger = createLogger('irc-service', config.LOG_LEVEL);
  const token = config.INTERNAL_API_TOKEN;

  const events = new EventStream<IrcEventMap>({ coalesceMs: EVENTS_COALESCE_MS });
  const publish = (event: IrcEvent) => {
    if (event.type === 'connected' || event.type === 'disconnected' || event.type === 'reconnecting') {
      logger.info(event.payload, event.type);
    }
    // said loudly: nothing reconnects it until an operator does (or IRC_FAILED_RETRY_MS)
    if (event.type === 'failed') logger.warn(event.payload, 'connection failed; not reconnecting');
    // the union of type and payload is correlated; EventStream's signature cannot see that
    events.publish(event.type, event.payload as never);
  };
  const registry = new IrcConnectionRegistry({
    node: config.IRC_NODE_ID ?? `node-${config.IRC_SERVICE_PORT}`,
    clientLogic: createIrcClientActor({
      throttle: new ConnectThrottle(config.IRC_CONNECTS_PER_HOST),
      logger,
      sendBurst: config.IRC_SEND_BURST,
      sendIntervalMs: config.IRC_SEND_INTERVAL_MS,
    }),
    onEvent: publish,
    random: Math.random,
    timing: {
      pingIntervalMs: config.IRC_PING_INTERVAL_MS,
      pingTimeoutMs: config.IRC_PING_TIMEOUT_MS,
      reconnectMaxMs: config.IRC_RECONNECT_MAX_MS,
      failedRetryMs: config.IRC_FAILED_RETRY_MS ?? null,
    },
    logger,
    // called as each actor starts, so after `metrics` below exists
    observe: () => metrics.connectionObserver(),
    // only when asked for: an inspector has xstate build an event for every step of every connection
    inspect: config.DEBUG_MACHINES
      ? (serverId) => machineTransitionLogger(true, logger, { machine: 'ircConnection', serverId })
      : undefined,
  });
  const metrics = new IrcServiceMetrics({
    connectionStates: () => registry.connectionStates(),
    sseClients: () => events.clientCount,
  });
  const app = createIrcServiceApp({ registry, events, token, metrics, logger });
  const server = await listen(serve, app, config.IRC_SERVICE_HOST, config.IRC_SERVICE_PORT);

  // Steps run in reverse: QUIT everywhere (its `disconnected` events still reach followers), then end
  // the event streams, then stop listening.
  onShutdown(() => server.close());
  onShutdown(() => events.close());
  onShutdown(async () => {
    logger.info({ connections: registry.size }, 'shutting down: sending QUIT');
    await registry.stopAll(QUIT_DEADLINE_MS);
  });
  logger.info(`IRC service listening on ${server.url}`);
});
