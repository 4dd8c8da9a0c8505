/** The interface through which the web side publishes browser events. */
import type { WebEventMap, WebEventType } from '../../shared/web-events.ts';

/** Where the web side sends browser events; the `EventStream` of `/events` in production, a recorder in tests. */
export interface WebEventPublisher {
  publish<T extends WebEventType>(type: T, payload: WebEventMap[T]): unknown;
  /** The id of the newest event published; API snapshots carry it so browsers can order them with events. */
  readonly position: string;
}
