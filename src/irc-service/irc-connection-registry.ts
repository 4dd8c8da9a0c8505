/** One connection machine actor per server id: starts, stops and lists them, and streams their events. */
import {
  type Actor,
  type ActorLogic,
  type AnyActorRef,
  createActor,
  type InspectionEvent,
  type Snapshot,
} from 'xstate';
import {
  connectionStateOf,
  type IrcClientInput,
  type IrcConnectionSettings,
  type IrcConnectionSnapshot,
  type IrcConnectionTiming,
  ircConnectionMachine,
  sameConnection,
} from '../../machines/irc-connection.machine.ts';
import type { Logger } from '../logger.ts';
import type { IrcEvent, IrcEventPayload, IrcEventType } from '../shared/irc-events.ts';
import { normalizeChannelName } from '../shared/irc-events.ts';
import type { ConnectionState } from '../shared/irc-service-contract.ts';

/** Payload of each event type, for `EventStream<IrcEventMap>`. */
export type IrcEventMap = { [T in IrcEventType]: IrcEventPayload<T> };

/** What a `PUT /internal/irc/connections/:serverId` asks for. */
export interface ConnectionRequest {
  settings: IrcConnectionSettings;
  /** The channels the connection should be in; when left out, the current list stays. */
  channels?: string[];
}

/**
 * `started`: a new actor; `unchanged`: nothing to do; `reconfigured`: the actor got new settings or channels;
 * `retried`: a `failed` connection tries once more (an operator's Connect).
 */
export type PutOutcome = 'started' | 'unchanged' | 'reconfigured' | 'retried';

// biome-ignore lint/suspicious/noExplicitAny: the client logic's snapshot type is irrelevant here
type IrcClientLogic = ActorLogic<any, any, IrcClientInput, any, any>;

export interface IrcConnectionRegistryOptions {
  /** This node's name in a cluster (`IRC_NODE_ID`), answered as `node` beside `connections`. */
  node?: string;
  /** The actor that owns one socket (irc-client.actor.ts, or a fake in tests). */
  clientLogic: IrcClientLogic;
  /** Every contract event of every connection, in order. */
  onEvent: (event: IrcEvent) => void;
  timing?: Partial<IrcConnectionTiming>;
  /** Jitter source for the reconnect backoff. */
  random?: () => number;
  /** The clock the connections date their states and errors with; `Date.now` by default. */
  now?: () => number;
  logger?: Logger;
  /** An observer per connection (metrics), or undefined: told each snapshot of the connection's actor. */
  observe?: (serverId: number) => ((snapshot: IrcConnectionSnapshot) => void) | undefined;
  /**
   * An inspector per connection (DEBUG_MACHINES), or undefined. It is given the snapshots of its connection actor,
   * each as if that actor were the root of a system of its own (`rootId` its `sessionId`). Leave it out unless
   * debugging: with an inspector, xstate builds an inspection event for every action and step of every actor.
   */
  inspect?: (serverId: number) => ((event: InspectionEvent) => void) | undefined;
}

type ConnectionActor = Actor<typeof ircConnectionMachine>;

/** Connections that share one actor system (see `IrcConnectionRegistry.systems`). */
const CONNECTIONS_PER_SYSTEM = 128;

interface ConnectionSystem {
  root: AnyActorRef;
  connections: number;
}

/**
 * The parent of the connection actors of one system, so that they share it. It does one thing: stop a child when
 * told (xstate lets only an actor's parent stop it); what its children tell it when they end is ignored (the
 * registry hears of that from them).
 */
const connectionsRootLogic: ActorLogic<Snapshot<undefined>, { type: string; child?: AnyActorRef }> = {
  transition: (snapshot, event, scope) => {
    if (event.type === 'stop' && event.child) scope.stopChild(event.child);
    return snapshot;
  },
  getInitialSnapshot: () => ({ status: 'active', output: undefined, error: undefined }),
  getPersistedSnapshot: (snapshot) => snapshot,
};

/** A PUT to a registry that is shutting down (`stopAll`): nothing is started or revived any more. */
export class RegistryClosingError extends Error {
  constructor() {
    super('shutting down: no connection is started or revived');
    this.name = 'RegistryClosingError';
  }
}

function sameChannels(wanted: string[], requested: string[] | undefined): boolean {
  if (requested === undefined) return true;
  const set = new Set(requested);
  return set.size === wanted.length && wanted.every((channel) => set.has(channel));
}

/**
 * Server id -> connection actor: the IRC service's whole truth, kept in memory.
 *
 * An actor stays here from its PUT until it reaches `stopped` (or fails, in which case it is stopped
 * and dropped), so a quitting connection is revived by a PUT instead of racing a second socket with
 * the same nickname. The status body is serialized once and reused until an actor enters or leaves
 * `registered` or `failed`.
 */
export class IrcConnectionRegistry {
  private readonly actors = new Map<number, ConnectionActor>();
  private readonly registered = new Set<number>();
  /** Connections in `failed`: not registered, and not to be asked for again until an operator says so. */
  private readonly failed = new Set<number>();
  private readonly machine;
  private statusBody: string | undefined;
  private statusBytesCache: Uint8Array<ArrayBuffer> | undefined;
  /**
   * The actor systems the connections share, at most `CONNECTIONS_PER_SYSTEM` each: each connection actor is created
   * as a child of a system's root, which only stops a child when told. A system of its own per connection (its
   * registries, scheduler and closures) cost about 1.9 KiB of heap per connection and its creation's CPU (memory per
   * connection, bench P5); one for all made each actor's stop as slow as the whole node's pending timers (xstate's
   * scheduler looks through all of its system's): 10,000 sockets ending together took 19 s instead of 1 s.
   */
  private readonly systems: ConnectionSystem[] = [];
  private readonly systemOf = new WeakMap<ConnectionActor, ConnectionSystem>();
  /** The per-connection inspectors (`options.inspect`), by their connection actor. */
  private readonly inspectors = new Map<unknown, (event: InspectionEvent) => void>();
  /** Set by `stopAll`: a PUT would otherwise revive a quitting connection or start one that nothing stops. */
  private closing = false;

  constructor(private readonly options: IrcConnectionRegistryOptions) {
    this.machine = ircConnectionMachine.provide({ actors: { ircClient: options.clientLogic } });
  }

  get size(): number {
    return this.actors.size;
  }

  has(serverId: number): boolean {
    return this.actors.has(serverId);
  }

  /**
   * Starts a connection, or brings an existing one to the requested settings and channels. Throws
   * `RegistryClosingError` once `stopAll` has begun.
   */
  put(serverId: number, request: ConnectionRequest): PutOutcome {
    if (this.closing) throw new RegistryClosingError();
    const channels = request.channels?.map(normalizeChannelName);
    const existing = this.actors.get(serverId);
    if (existing) {
      const { context } = existing.getSnapshot();
      const quitting = existing.getSnapshot().matches({ socket: 'disconnecting' }) && context.afterQuit === 'stop';
      const sameSettings = sameConnection(context.settings, request.settings);
      if (existing.getSnapshot().matches('failed') && sameSettings) {
        // an operator's Connect: once more (a CONFIGURE retries too, and brings the request's channels)
        existing.send(
          channels === undefined ? { type: 'RETRY' } : { type: 'CONFIGURE', settings: request.settings, channels },
        );
        return 'retried';
      }
      if (!quitting && sameSettings && sameChannels(context.wantedChannels, channels)) {
        return 'unchanged';
      }
      existing.send({ type: 'CONFIGURE', settings: request.settings, channels });
      return 'reconfigured';
    }
    this.start(serverId, request.settings, channels ?? []);
    return 'started';
  }

  /** Sends QUIT and stops the connection; false when there is none. */
  remove(serverId: number): boolean {
    const actor = this.actors.get(serverId);
    if (!actor) return false;
    actor.send({ type: 'STOP' });
    return true;
  }

  join(serverId: number, channel: string): boolean {
    const actor = this.actors.get(serverId);
    actor?.send({ type: 'JOIN', channel: normalizeChannelName(channel) });
    return actor !== undefined;
  }

  part(serverId: number, channel: string): boolean {
    const actor = this.actors.get(serverId);
    actor?.send({ type: 'PART', channel: normalizeChannelName(channel) });
    return actor !== undefined;
  }

  /**
   * Asks registered connections (all, or these) to emit their state again: `connected`, `joined` for
   * each channel and fresh `names`. Answers the ids asked, ascending.
   */
  resync(serverIds?: readonly number[]): number[] {
    const ids = (serverIds ?? this.registeredIds()).filter((id) => this.registered.has(id));
    for (const id of ids) this.actors.get(id)?.send({ type: 'RESYNC' });
    return [...new Set(ids)].sort((a, b) => a - b);
  }

  /** Ascending ids of connections registered on their network. */
  registeredIds(): number[] {
    return [...this.registered].sort((a, b) => a - b);
  }

  /** Ascending ids of connections in `failed` (banned, refused, no acceptable nickname). */
  failedIds(): number[] {
    return [...this.failed].sort((a, b) => a - b);
  }

  /**
   * `GET /internal/irc/connections`: each connection's state, since, nickname, attempt, next attempt and
   * last error, ascending by server id. Read from the actors' contexts on each call: an operator's
   * question, not the status poll, so nothing is kept (or invalidated) for it.
   */
  connectionStates(): ConnectionState[] {
    return [...this.actors.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, actor]) => connectionStateOf(actor.getSnapshot().context));
  }

  /** The JSON body of `GET /internal/irc/status`, from memory, serialized once per change. */
  statusJson(): string {
    // `failed` only when there are some: the usual body stays what it always was
    this.statusBody ??= JSON.stringify(
      this.failed.size > 0
        ? { node: this.options.node, connections: this.registeredIds(), failed: this.failedIds() }
        : { node: this.options.node, connections: this.registeredIds() },
    );
    return this.statusBody;
  }

  /** `statusJson()` encoded once per change: the status route sends these bytes without re-encoding. */
  statusBytes(): Uint8Array<ArrayBuffer> {
    this.statusBytesCache ??= new TextEncoder().encode(this.statusJson());
    return this.statusBytesCache;
  }

  /**
   * Shutdown: QUIT on every connection, resolved once all have stopped. Each waits at most the
   * machine's quit timeout; `deadlineMs` is the backstop after which the rest are stopped hard.
   */
  async stopAll(deadlineMs = 4_000): Promise<void> {
    this.closing = true;
    const actors = [...this.actors.values()];
    const stopped = actors.map(
      (actor) =>
        new Promise<void>((resolve) => {
          if (actor.getSnapshot().status !== 'active') return resolve();
          actor.subscribe({ complete: () => resolve(), error: () => resolve() });
          actor.send({ type: 'STOP' });
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    const outcome = await Promise.race([Promise.all(stopped), deadline]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.options.logger?.warn('connections did not all quit in time; closing their sockets');
      for (const actor of this.actors.values()) this.stopActor(actor);
    }
  }

  private start(serverId: number, settings: IrcConnectionSettings, channels: string[]): void {
    const { timing, random, onEvent, logger } = this.options;
    const now = this.options.now ?? Date.now;
    const system = this.systemWithRoom();
    const actor = createActor(this.machine, {
      input: { serverId, settings, channels, timing, random, now },
      parent: system.root,
    });
    this.systemOf.set(actor, system);
    const inspect = this.options.inspect?.(serverId);
    if (inspect) this.inspectors.set(actor, inspect);
    actor.on('*', onEvent);
    const observe = this.options.observe?.(serverId);
    // Listeners as arguments, not an observer object: xstate binds an object's methods into a second
    // observer, which measured about 1.5 KiB more heap per connection (the connection-memory benchmark, test/bench/RESULTS.md).
    actor.subscribe(
      (snapshot) => {
        observe?.(snapshot);
        this.updateMembership(this.registered, serverId, snapshot.matches({ socket: 'registered' }));
        this.updateMembership(this.failed, serverId, snapshot.matches('failed'));
      },
      (error) => {
        logger?.error({ serverId, err: error }, 'connection actor failed; dropping it');
        this.forget(serverId, actor);
      },
      () => this.forget(serverId, actor),
    );
    this.actors.set(serverId, actor);
    actor.start();
  }

  /** Keeps `set` (registered or failed) true for one server; the status body is rebuilt only on a change. */
  private updateMembership(set: Set<number>, serverId: number, member: boolean): void {
    if (member === set.has(serverId)) return;
    if (member) set.add(serverId);
    else set.delete(serverId);
    this.statusBody = undefined;
    this.statusBytesCache = undefined;
  }

  /** A system with room for one more connection (counted), or a new one. */
  private systemWithRoom(): ConnectionSystem {
    let system = this.systems.find((each) => each.connections < CONNECTIONS_PER_SYSTEM);
    if (!system) {
      // the system's inspector only when there are per-connection ones: uninspected, xstate skips inspection events
      const inspect = this.options.inspect
        ? { inspect: (event: InspectionEvent) => this.inspectConnection(event) }
        : {};
      system = { root: createActor(connectionsRootLogic, inspect).start(), connections: 0 };
      this.systems.push(system);
    }
    system.connections += 1;
    return system;
  }

  /** A connection actor's snapshot, to its inspector; the events of the system's other actors are not asked for. */
  private inspectConnection(event: InspectionEvent): void {
    if (event.type !== '@xstate.snapshot') return;
    const inspect = this.inspectors.get(event.actorRef);
    // each connection is the root of its own trace, as when it had a system of its own
    if (inspect) inspect({ ...event, rootId: (event.actorRef as { sessionId: string }).sessionId });
  }

  /** Stops a connection actor (and its socket) at once, through its system's root. */
  private stopActor(actor: ConnectionActor): void {
    this.systemOf.get(actor)?.root.send({ type: 'stop', child: actor });
  }

  /** A connection actor that has stopped (completed, or failed): it leaves the registry and its system. */
  private forget(serverId: number, actor: ConnectionActor): void {
    const system = this.systemOf.get(actor);
    this.systemOf.delete(actor);
    if (system && --system.connections === 0) this.systems.splice(this.systems.indexOf(system), 1);
    // after the current step: xstate inspects an actor's final snapshot after telling its observers it completed
    if (this.inspectors.size > 0) queueMicrotask(() => this.inspectors.delete(actor));
    if (this.actors.get(serverId) !== actor) return;
    this.actors.delete(serverId);
    this.updateMembership(this.registered, serverId, false);
    this.updateMembership(this.failed, serverId, false);
  }
}
