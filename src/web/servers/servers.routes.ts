/** The servers and channels API (`/api/servers`). */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { Server } from '../../db/entities/index.ts';
import type { MikroORM } from '../../db/orm.ts';
import { runSql, toIsoTimestamp } from '../../db/sql.ts';
import type { Logger } from '../../logger.ts';
import { normalizeChannelName } from '../../shared/irc-events.ts';
import { connectionSecurityProblem } from '../../shared/irc-service-contract.ts';
import type { WebEventPublisher } from '../browser-events/web-event-publisher.ts';
import { badRequest, idParam, parseJsonBody, validationError } from '../http/json-body.ts';
import type { InternalApiClient } from '../irc-service/internal-api-client.ts';
import { IrcCluster } from '../irc-service/irc-cluster.ts';
import { ConnectionStates } from './connection-states.ts';
import { placeServer } from './placement.ts';
import {
  CONNECTION_FIELDS,
  createServerInput,
  joinChannelInput,
  securityColumns,
  updateServerInput,
} from './server-input.ts';
import { channelEvent, loadServerViews, loadServerView as loadView, queryChannels } from './server-views.ts';
import { type ConvergeWork, WantedConnections } from './wanted-connections.ts';

export type IrcServiceCommands = Pick<InternalApiClient, 'connect' | 'disconnect' | 'join' | 'part'>;

export interface ServersRoutesDependencies {
  orm: MikroORM;
  ircService: IrcServiceCommands;
  events: WebEventPublisher;
  /**
   * Passes committed wishes on to the IRC service after the answer (main.ts shares the health check's);
   * without it the routes make their own on `ircService`.
   */
  reconciler?: Pick<WantedConnections, 'converge'>;
  /** Each server's connection as the IRC service last reported it (the IRC event consumer keeps them); none by default. */
  connections?: ConnectionStates;
  /**
   * The IRC service nodes: a wish to connect places its server (`servers.irc_node`) in the wish's own
   * transaction. A one-node cluster of `ircService` by default.
   */
  cluster?: IrcCluster<unknown>;
  logger?: Logger;
}

function notFound(id: number): HTTPException {
  return new HTTPException(404, {
    res: Response.json({ error: { message: `no server with id ${id}` } }, { status: 404 }),
  });
}

function channelNotFound(id: number, name: string): HTTPException {
  const message = `server ${id} has no channel ${name}`;
  return new HTTPException(404, { res: Response.json({ error: { message } }, { status: 404 }) });
}

/**
 * `/api/servers`: create, list, show, update, delete; connect, disconnect, join and part. Intent first: each
 * action commits the operator's wish in one statement (or one short transaction) and answers at once; the
 * IRC service is asked after, outside any transaction (WantedConnections.converge), and whatever it cannot
 * be told now the reconciler converges after the next check.
 */
export function serversRoutes({
  orm,
  ircService,
  events,
  reconciler,
  connections = new ConnectionStates(),
  cluster = IrcCluster.single<unknown>(ircService),
  logger,
}: ServersRoutesDependencies): Hono {
  const routes = new Hono();
  const loadServerView = (em: ReturnType<typeof fork>, id: number) => loadView(em, id, connections);
  const fork = () => orm.em.fork();
  const converger = reconciler ?? new WantedConnections({ orm, ircService, events, logger, staggerMs: 0 });
  /**
   * In the wish's transaction: a server wanted connected is placed on its node (the reconciler's rule, over the
   * nodes that are up and not draining); `node` for the `server-status` event when it moved.
   */
  const placeWanted = async (tx: ReturnType<typeof fork>, serverId: number): Promise<{ node?: string }> => {
    const [row] = await runSql<{ irc_node: string | null; connected: boolean }>(
      tx,
      'select irc_node, connected_at is not null as connected from servers where id = ? and autoconnect',
      [serverId],
    );
    if (!row) return {};
    const { node, moved } = await placeServer(tx, cluster, {
      serverId,
      current: row.irc_node,
      connected: row.connected,
    });
    return moved && node?.name ? { node: node.name } : {};
  };
  /** Fired after the commit, never awaited: the answer does not wait on the IRC service. */
  const passOn = (serverId: number, work: ConvergeWork) => void converger.converge(serverId, work);

  routes.get('/', async (c) => {
    // noted before reading: every event up to it is reflected in the list (see EventStream.position)
    const eventId = events.position;
    return c.json({ servers: await loadServerViews(fork(), undefined, connections), eventId });
  });

  routes.post('/', async (c) => {
    const input = await parseJsonBody(c, createServerInput);
    const problem = connectionSecurityProblem({ ...input, tls: input.tls ?? false });
    if (problem) throw badRequest(`${problem.field}: ${problem.message}`, problem.field);
    const security = securityColumns(input);
    const em = fork();
    // the server and, when it is wanted connected, its placement: one short transaction
    const created = await em.transactional(async (tx) => {
      const [inserted] = await runSql<{ id: number }>(
        tx,
        `insert into servers (name, host, port, nickname, tls, username, realname, password, autoconnect,
                            tls_verify, tls_fingerprint, client_certificate, client_key, sasl_mechanism,
                            sasl_account, sasl_password, sasl_required)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
        [
          input.name,
          input.host,
          input.port,
          input.nickname,
          input.tls ?? false,
          input.username ?? null,
          input.realname ?? null,
          input.password ?? null,
          input.autoconnect ?? false,
          security.tlsVerify ?? true,
          security.tlsFingerprint ?? null,
          security.clientCertificate ?? null,
          security.clientKey ?? null,
          security.saslMechanism ?? null,
          security.saslAccount ?? null,
          security.saslPassword ?? null,
          security.saslRequired ?? true,
        ],
      );
      const placed = await placeWanted(tx, inserted!.id);
      return { id: inserted!.id, ...placed };
    });
    const view = await loadServerView(em, created.id);
    if (view) {
      events.publish('server-status', {
        serverId: view.id,
        connected: false,
        connectedAt: null,
        ...(created.node ? { node: created.node } : {}),
      });
    }
    if (view?.autoconnect) passOn(view.id, { server: 'sync' });
    return c.json(view, 201);
  });

  routes.get('/:id', async (c) => {
    const id = idParam(c);
    const view = await loadServerView(fork(), id);
    if (!view) throw notFound(id);
    return c.json(view);
  });

  routes.patch('/:id', async (c) => {
    const id = idParam(c);
    const input = await parseJsonBody(c, updateServerInput);
    const em = fork();
    let placedOn: string | undefined;
    // a short transaction of its own (the wish, and where a wanted server goes); the IRC service is asked after it commits
    const work = await em.transactional(async (tx): Promise<ConvergeWork | undefined> => {
      const server = await tx.findOne(Server, id);
      if (!server) throw notFound(id);
      const { tlsVerify, tlsFingerprint, clientCertificate, clientKey, sasl, saslRequired, ...plain } = input;
      const security = securityColumns({ tlsVerify, tlsFingerprint, clientCertificate, clientKey, sasl, saslRequired });
      const settingsChanged =
        CONNECTION_FIELDS.some((field) => field in input && input[field] !== server[field]) ||
        Object.entries(security).some(([column, value]) => server[column as keyof typeof security] !== value);
      const wishChanged = 'autoconnect' in input && input.autoconnect !== server.autoconnect;
      tx.assign(server, { ...plain, ...security });
      // the server as it would be saved must hold together (EXTERNAL needs a client certificate, …)
      const problem = connectionSecurityProblem({
        tls: server.tls,
        tlsFingerprint: server.tlsFingerprint,
        clientCertificate: server.clientCertificate,
        clientKey: server.clientKey,
        sasl: server.saslMechanism ? { mechanism: server.saslMechanism } : null,
      });
      if (problem) throw badRequest(`${problem.field}: ${problem.message}`, problem.field);
      await tx.flush();
      // a changed wish connects or closes it; a wanted connection follows its new settings
      if (wishChanged) {
        if (server.autoconnect) placedOn = (await placeWanted(tx, id)).node;
        return { server: 'sync' };
      }
      return settingsChanged && server.autoconnect ? { server: 'restore' } : undefined;
    });
    const view = await loadServerView(em, id);
    if (placedOn && view) {
      events.publish('server-status', {
        serverId: id,
        connected: view.connected,
        connectedAt: view.connectedAt,
        node: placedOn,
      });
    }
    if (work) passOn(id, work);
    return c.json(view);
  });

  routes.delete('/:id', async (c) => {
    const id = idParam(c);
    const deleted = await runSql<{ id: number }>(fork(), 'delete from servers where id = ? returning id', [id]);
    if (deleted.length === 0) throw notFound(id);
    events.publish('server-removed', { serverId: id });
    // If the IRC service cannot be told now, the next check closes the orphaned connection.
    passOn(id, { server: 'sync' });
    return c.body(null, 204);
  });

  routes.post('/:id/connect', async (c) => {
    const id = idParam(c);
    const em = fork();
    // the operator's Connect is also the retry of a failed connection (a ban, a refused password): the
    // failure is cleared with the wish, so that the reconciler passes it on too if the IRC service is away;
    // the server is placed on its node in the same short transaction
    const changed = await em.transactional(async (tx) => {
      const [updated] = await runSql<{ id: number; connected_at: string | null; was_failed: boolean }>(
        tx,
        `update servers s set autoconnect = true, failure_reason = null, failed_at = null, updated_at = now()
         from (select id, failed_at from servers where id = ?) old where s.id = old.id
         returning s.id, s.connected_at, old.failed_at is not null as was_failed`,
        [id],
      );
      if (!updated) throw notFound(id);
      return { ...updated, ...(await placeWanted(tx, id)) };
    });
    if (changed.was_failed || changed.node) {
      events.publish('server-status', {
        serverId: id,
        connected: changed.connected_at !== null,
        connectedAt: toIsoTimestamp(changed.connected_at),
        ...(changed.was_failed ? { failure: null } : {}),
        ...(changed.node ? { node: changed.node } : {}),
      });
    }
    passOn(id, { server: 'sync' });
    return c.json(await loadServerView(em, id), 202);
  });

  routes.post('/:id/disconnect', async (c) => {
    const id = idParam(c);
    const em = fork();
    const updated = await runSql(
      em,
      'update servers set autoconnect = false, updated_at = now() where id = ? returning id',
      [id],
    );
    if (updated.length === 0) throw notFound(id);
    // shown disconnected once the IRC service has let the connection go
    passOn(id, { server: 'sync' });
    return c.json(await loadServerView(em, id), 202);
  });

  routes.post('/:id/channels', async (c) => {
    const id = idParam(c);
    const { name } = await parseJsonBody(c, joinChannelInput);
    const channelName = normalizeChannelName(name);
    const em = fork();
    // one statement: wanted, new or again (a part on its way is overtaken)
    const [row] = await runSql<{ id: number }>(
      em,
      `insert into channels (server_id, name, wanted) select id, ?, true from servers where id = ?
       on conflict (server_id, name) do update set wanted = true returning id`,
      [channelName, id],
    );
    if (!row) throw notFound(id);
    // A server that is not connected keeps the channel as wanted: it is joined on the next connect.
    passOn(id, { channels: [channelName] });
    const [channel] = await queryChannels(em, 'channel', [row.id]);
    if (channel) events.publish('channel', channelEvent(channel));
    return c.json({ channel }, 202);
  });

  routes.delete('/:id/channels/:name', async (c) => {
    const id = idParam(c);
    const parsed = joinChannelInput.safeParse({ name: c.req.param('name') });
    if (!parsed.success) throw validationError(parsed.error);
    const channelName = normalizeChannelName(parsed.data.name);
    const em = fork();
    // the wish: not wanted any more; the row goes once it is parted (or at once when the server is not live)
    const [row] = await runSql<{ id: number }>(
      em,
      'update channels set wanted = false where server_id = ? and name = ? returning id',
      [id, channelName],
    );
    if (!row) {
      const [server] = await runSql(em, 'select id from servers where id = ?', [id]);
      throw server ? channelNotFound(id, channelName) : notFound(id);
    }
    passOn(id, { channels: [channelName] });
    const [channel] = await queryChannels(em, 'channel', [row.id]);
    if (channel) events.publish('channel', channelEvent(channel));
    return c.json({ channel: channel ?? null }, 202);
  });

  return routes;
}
