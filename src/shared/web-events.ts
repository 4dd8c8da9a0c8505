/** Events the web side sends to browsers on `GET /events`. */
export interface ServerStatusEvent {
  serverId: number;
  connected: boolean;
  connectedAt: string | null;
}

export interface ChannelEvent {
  serverId: number;
  channelId: number;
  name: string;
  joined: boolean;
  userCount: number;
}

export interface HealthEvent {
  state: string;
  checkedAt: string | null;
  [field: string]: unknown;
}

export interface WebEventMap {
  'server-status': ServerStatusEvent;
  channel: ChannelEvent;
  health: HealthEvent;
  'server-removed': { serverId: number };
  /** What a browser shows may be out of date (events were missed): reload it from the API. */
  reset: Record<string, never>;
}

export type WebEventType = keyof WebEventMap;
