/** The IRC service nodes the web side knows: one client per node, each node's name and last known availability. */
import type { HealthCheckOutcome } from '../../shared/health-check-report.ts';
import type { IrcStatus } from '../../shared/irc-service-contract.ts';
import type { IrcNodeView } from '../../shared/web-events.ts';
import { InternalApiClient } from './internal-api-client.ts';
import { placeOnNode } from './rendezvous-placement.ts';

/**
 * `unknown` before its first check, `healthy` when its last check was answered, `unavailable` when nothing
 * listens there (or it stayed silent past the threshold). An unknown node still takes placements: a web side
 * started before its first check must be able to connect.
 */
export type IrcNodeAvailability = 'unknown' | 'healthy' | 'unavailable';

/** Who answered a status request, as the cluster judges it. */
export type StatusVerdict =
  | { trusted: true; name: string | null }
  | { trusted: false; expected: string; answered: string | undefined };

/** One IRC service node: where it is, its client, its name, and what the last check found. */
export class IrcNode<Client = InternalApiClient> {
  availability: IrcNodeAvailability = 'unknown';
  /** An operator drained it (`irc_nodes.draining_since`, read from the database): nothing new goes there. */
  draining = false;
  /** Why the drain's last move from it was given up (`irc_nodes.drain_problem`); null once one succeeds. */
  drainProblem: string | null = null;
  private lastOutcome: HealthCheckOutcome | null = null;
  private lastConnections: number | null = null;
  private lastCheckAt: string | null = null;

  constructor(
    readonly url: string,
    readonly client: Client,
    /** Its `IRC_NODE_ID`, from `IRC_SERVICE_URLS`; null for the node of `IRC_SERVICE_URL` until it has answered. */
    private expectedName: string | null,
  ) {}

  get name(): string | null {
    return this.expectedName;
  }

  /**
   * Whether a status answer may be believed: from the configured node, or (the one node of `IRC_SERVICE_URL`)
   * its first answer names it. An answer without `node` comes from an IRC service older than the cluster and
   * is taken as the configured node's. A node that answers under another name is not trusted: its list could
   * close or adopt the connections of another node.
   */
  judge(status: IrcStatus): StatusVerdict {
    if (status.node === undefined) return { trusted: true, name: this.expectedName };
    if (this.expectedName === null) this.expectedName = status.node;
    if (status.node === this.expectedName) return { trusted: true, name: status.node };
    return { trusted: false, expected: this.expectedName, answered: status.node };
  }

  /**
   * Records what a check of this node found; answers whether its view (`GET /api/irc-nodes`, `node-status`)
   * changed, so that a browser hears of it once.
   */
  recordCheck(
    outcome: HealthCheckOutcome,
    availability: IrcNodeAvailability | undefined,
    connections: number | null,
    at: string,
  ): boolean {
    const before = this.view();
    if (availability) this.availability = availability;
    this.lastOutcome = outcome;
    if (connections !== null) this.lastConnections = connections;
    else if (this.availability === 'unavailable') this.lastConnections = 0;
    this.lastCheckAt = at;
    const after = this.view();
    return before.state !== after.state || before.connections !== after.connections;
  }

  /**
   * As an operator sees it: `healthy` when its last check was answered, `unavailable` when nothing listens there
   * (or it stayed silent past the threshold), `degraded` otherwise (no answer it could trust yet, or an error).
   */
  view(): IrcNodeView {
    const state =
      this.availability === 'unavailable'
        ? 'unavailable'
        : this.draining
          ? 'draining'
          : this.lastOutcome === 'answered'
            ? 'healthy'
            : 'degraded';
    return {
      name: this.expectedName,
      url: this.url,
      state,
      connections: this.lastConnections,
      lastCheck: this.lastCheckAt,
      ...(this.draining && this.drainProblem ? { drainProblem: this.drainProblem } : {}),
    };
  }

  /** Its last check was answered: what placement prefers, and what a drain needs another of. */
  get healthy(): boolean {
    return this.availability !== 'unavailable' && this.lastOutcome === 'answered';
  }

  /** The key placement hashes on: the name, or the URL while a lone node has not told its name. */
  get placementKey(): string {
    return this.expectedName ?? this.url;
  }
}

export interface IrcClusterNodeConfig {
  /** Null for the one node of `IRC_SERVICE_URL`: its name is learnt from its first status answer. */
  name: string | null;
  url: string;
}

/** The nodes of the cluster and where each server's requests go. */
export class IrcCluster<Client = InternalApiClient> {
  constructor(readonly nodes: readonly IrcNode<Client>[]) {
    if (nodes.length === 0) throw new Error('an IRC cluster needs at least one node');
  }

  /** One client per node, all with the same token (`INTERNAL_API_TOKEN`) and timeout. */
  static fromConfig(
    nodes: readonly IrcClusterNodeConfig[],
    options: { token: string; timeoutMs: number; fetch?: typeof fetch },
  ): IrcCluster {
    return new IrcCluster(
      nodes.map((node) => new IrcNode(node.url, new InternalApiClient({ ...options, baseUrl: node.url }), node.name)),
    );
  }

  /** A one-node cluster around an existing client (`IRC_SERVICE_URL`; tests). */
  static single<Client>(client: Client, url = 'irc-service'): IrcCluster<Client> {
    return new IrcCluster([new IrcNode(url, client, null)]);
  }

  /** The node of this name; for an unplaced server (null) the lone node of a one-node cluster. */
  nodeNamed(name: string | null): IrcNode<Client> | undefined {
    if (name === null) return this.nodes.length === 1 ? this.nodes[0] : undefined;
    return this.nodes.find((node) => node.name === name) ?? (this.nodes.length === 1 ? this.lone(name) : undefined);
  }

  /**
   * Where a wanted server belongs: its current node while that one is not known to be down (nor draining, unless
   * the server may be live there: the drain moves it make-before-break), otherwise the rendezvous choice among
   * the healthy nodes that are not draining (while none is healthy, as before the first checks or with every node
   * degraded, among those not known to be down); undefined when there is none. A node that refuses the token or
   * times out is degraded: it keeps its servers but takes no new ones while another node is healthy.
   */
  placementFor(
    serverId: number,
    current: string | null,
    { keepDraining = false }: { keepDraining?: boolean } = {},
  ): IrcNode<Client> | undefined {
    const up = this.nodes.filter((node) => node.availability !== 'unavailable');
    const kept =
      current === null ? undefined : up.find((node) => node.name === current && (keepDraining || !node.draining));
    if (kept) return kept;
    const open = up.filter((node) => !node.draining);
    const healthy = open.filter((node) => node.healthy);
    const candidates = healthy.length > 0 ? healthy : open;
    const key = placeOnNode(
      serverId,
      candidates.map((node) => node.placementKey),
    );
    return candidates.find((node) => node.placementKey === key);
  }

  /**
   * Marks the draining nodes (the names read from `irc_nodes`); answers the nodes whose view changed, so that a
   * browser hears of it (`node-status`).
   */
  markDraining(names: ReadonlySet<string>): IrcNode<Client>[] {
    const changed: IrcNode<Client>[] = [];
    for (const node of this.nodes) {
      const draining = node.name !== null && names.has(node.name);
      if (draining !== node.draining) changed.push(node);
      node.draining = draining;
    }
    return changed;
  }

  /** The lone node of an `IRC_SERVICE_URL` cluster, when a row was placed by its name before it was learnt here. */
  private lone(name: string): IrcNode<Client> | undefined {
    const [node] = this.nodes;
    return node && node.name === null ? node : node?.name === name ? node : undefined;
  }
}
