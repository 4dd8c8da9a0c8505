/** Events the web side sends to browsers on `GET /events`. */
export interface ServerStatusEvent {
  serverId: number;
  connected: boolean;
  connectedAt: string | null;
  /** Sent when it changes: since when, and why, a wish of the server could not be passed on; null once it was. */
  pending?: PendingView | null;
}

/** A wish (connect, disconnect, join, part, new settings) that could not be passed on to the IRC service yet. */
export interface PendingView {
  since: string;
  reason: string;
}

/**
 * What the IRC service reports of one connection: its machine's state (`socket.connecting`,
 * `socket.registered`, `reconnecting`, …) since when, the nickname in use, the attempt and when the next
 * one is due while reconnecting, and the last error. `GET /api/servers` shows it as `connection`.
 */
export interface ConnectionView {
  state: string;
  since: string;
  nickname: string;
  attempt: number;
  nextAttemptAt: string | null;
  lastError: { message: string; at: string } | null;
}

/** A connection's state changed; `connection` is null once the IRC service holds no connection for the server. */
export interface ConnectionStateEvent {
  serverId: number;
  connection: ConnectionView | null;
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

export interface WebEventMap {
  'server-status': ServerStatusEvent;
  channel: ChannelEvent;
  'connection-state': ConnectionStateEvent;
  health: HealthEvent;
  'server-removed': { serverId: number };
  /** A channel the operator parted is gone from the server's list. */
  'channel-removed': { serverId: number; channelId: number };
  /** What a browser shows may be out of date (events were missed): reload it from the API. */
  reset: Record<string, never>;
}

export type WebEventType = keyof WebEventMap;
