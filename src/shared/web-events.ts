/** Events the web side sends to browsers on `GET /events`. */
import type { ConnectionState } from './irc-service-contract.ts';

/**
 * A server's connection as the IRC service last reported it: the machine state (`socket.registered`,
 * `reconnecting`, …), since when, the nickname in use, the reconnect attempt, the next one, the last error.
 */
export type ConnectionView = Omit<ConnectionState, 'serverId'>;

/** The connection of a server changed; null when the IRC service holds none for it. */
export interface ConnectionStateEvent {
  serverId: number;
  connection: ConnectionView | null;
}

export interface ServerStatusEvent {
  serverId: number;
  connected: boolean;
  connectedAt: string | null;
  /** Sent when it changes: since when, and why, a wish of the server could not be passed on; null once it was. */
  pending?: PendingView | null;
  /** Sent when it changes: why, and when, the IRC service gave up on the connection (`failed`); null once registered. */
  failure?: FailureView | null;
  /** The IRC service node it is placed on (`servers.irc_node`), sent while it is placed on one. */
  node?: string;
  /** Sent when a drain's move of the server starts (the node its new connection is made on) and ends (null). */
  movingTo?: string | null;
}

/** A connection in `failed`: it is not reconnected until the operator connects it again. */
export interface FailureView {
  message: string;
  at: string;
}

/** A wish (connect, disconnect, join, part, new settings) that could not be passed on to the IRC service yet. */
export interface PendingView {
  since: string;
  reason: string;
}

export interface ChannelEvent {
  serverId: number;
  channelId: number;
  name: string;
  joined: boolean;
  userCount: number;
  /** The operator's wish (false while a part is on its way); absent in events that only tell what was observed. */
  wanted?: boolean;
}

export interface HealthEvent {
  state: string;
  checkedAt: string | null;
  [field: string]: unknown;
}

/** One IRC service node as `GET /api/irc-nodes` lists it and a `node-status` event tells it. */
export interface IrcNodeView {
  /** Its `IRC_NODE_ID`; null for the one node of `IRC_SERVICE_URL` until its first status answer names it. */
  name: string | null;
  url: string;
  state: 'healthy' | 'degraded' | 'unavailable' | 'draining';
  /** How many connections it held at its last answered check (0 once unavailable); null before any. */
  connections: number | null;
  /** When it was last checked (ISO 8601); null before the first check. */
  lastCheck: string | null;
  /** While it drains, after a move from it was given up: which server stayed, and why. */
  drainProblem?: string;
}

export interface WebEventMap {
  'server-status': ServerStatusEvent;
  channel: ChannelEvent;
  'connection-state': ConnectionStateEvent;
  health: HealthEvent;
  /** An IRC service node's state or connection count changed. */
  'node-status': IrcNodeView;
  'server-removed': { serverId: number };
  /** A channel the operator parted is gone from the server's list. */
  'channel-removed': { serverId: number; channelId: number };
  /** What a browser shows may be out of date (events were missed): reload it from the API. */
  reset: Record<string, never>;
}

export type WebEventType = keyof WebEventMap;
