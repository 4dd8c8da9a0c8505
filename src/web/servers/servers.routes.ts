import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { Server } from '../../db/entities/index.ts';
import type { EntityManager, MikroORM } from '../../db/orm.ts';
import { runSql } from '../../db/sql.ts';
import { normalizeChannelName } from '../../shared/irc-events.ts';
import type { WebEventPublisher } from '../browser-events/web-event-publisher.ts';
import { disconnectServers } from '../health/disconnect-transition.ts';
import { idParam, parseJsonBody } from '../http/json-body.ts';
import { BadServiceAnswer } from '../irc-service/errors/bad-service-answer.ts';
import { InternalApiError } from '../irc-service/errors/internal-api-error.ts';
import type { InternalApiClient } from '../irc-service/internal-api-client.ts';
import { connectionSettings } from './connection-settings.ts';
import { CONNECTION_FIELDS, createServerInput, joinChannelInput, updateServerInput } from './server-input.ts';
import { channelEvent, loadServerView, loadServerViews, queryChannels } from './server-views.ts';

export type IrcServiceCommands = Pick<InternalApiClient, 'connect' | 'disconnect' | 'join'>;

export interface ServersRoutesDependencies {
  orm: MikroORM;
  ircService: IrcServiceCommands;
  events: WebEventPublisher;
}

function notFound(id: number): HTTPException {
  return new HTTPException(404, {
    res: Response.json({ error: { message: `no server with id ${id}` } }, { status: 404 }),
  });
}

/** The IRC service could not do what was asked; the database change that depended on it is rolled back. */
function ircServiceFailed(error: InternalApiError): HTTPException {
  const message = `the IRC service could not be reached or refused the request: ${error.message}`;
  return new HTTPException(502, { res: Response.json({ error: { message } }, { status: 502 }), cause: error });
}

/** The IRC service has no connection for this server (it answered 404). */
function isNoConnection(error: unknown): boolean {
  return error instanceof BadServiceAnswer && error.status === 404;
}

/** Runs `work` in a transaction; an IRC service failure inside it rolls the transaction back and answers 502. */
async function withIrcService<T>(em: EntityManager, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await em.transactional(work);
  } catch (error) {
    if (error instanceof InternalApiError) throw ircServiceFailed(error);
    throw error;
  }
}

/** `/api/servers`: create, list, show, update, delete; connect, disconnect and join through the IRC service. */
export function serversRoutes({ orm, ircService, events }: ServersRoutesDependencies): Hono {
  const routes = new Hono();
  const fork = () => orm.em.fork();

  routes.get('/', async (c) => {
    // noted before reading: every event up to it is reflected in the list (see EventStream.position)
    const eventId = events.position;
    return c.json({ servers: await loadServerViews(fork()), eventId });
  });

  routes.post('/', async (c) => {
    const input = await parseJsonBody(c, createServerInput);
    const em = fork();
    const [created] = await runSql<{ id: number }>(
      em,
      `insert into servers (name, host, port, nickname, tls, username, realname, password, autoconnect)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
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
      ],
    );
    const view = await loadServerView(em, created!.id);
    if (view) events.publish('server-status', { serverId: view.id, connected: false, connectedAt: null });
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
    await withIrcService(em, async (tx) => {
      const server = await tx.findOne(Server, id);
      if (!server) throw notFound(id);
      const reconnect =
        server.connectedAt !== null &&
        CONNECTION_FIELDS.some((field) => field in input && input[field] !== server[field]);
      tx.assign(server, input);
      await tx.flush();
      // a live connection follows its new settings; if the IRC service cannot, nothing is saved
      if (reconnect) await ircService.connect(id, (await connectionSettings(tx, id))!);
    });
    return c.json(await loadServerView(em, id));
  });

  routes.delete('/:id', async (c) => {
    const id = idParam(c);
    const deleted = await runSql<{ id: number }>(fork(), 'delete from servers where id = ? returning id', [id]);
    if (deleted.length === 0) throw notFound(id);
    events.publish('server-removed', { serverId: id });
    // Best effort: if the IRC service is down now, the next health check closes the orphaned connection.
    await ircService.disconnect(id).catch(() => undefined);
    return c.body(null, 204);
  });

  routes.post('/:id/connect', async (c) => {
    const id = idParam(c);
    const em = fork();
    await withIrcService(em, async (tx) => {
      const settings = await connectionSettings(tx, id, { lockRow: true });
      if (!settings) throw notFound(id);
      await runSql(tx, 'update servers set autoconnect = true, updated_at = now() where id = ? and not autoconnect', [
        id,
      ]);
      await ircService.connect(id, settings);
    });
    return c.json(await loadServerView(em, id), 202);
  });

  routes.post('/:id/disconnect', async (c) => {
    const id = idParam(c);
    const em = fork();
    await withIrcService(em, async (tx) => {
      const updated = await runSql(
        tx,
        'update servers set autoconnect = false, updated_at = now() where id = ? returning id',
        [id],
      );
      if (updated.length === 0) throw notFound(id);
      await ircService.disconnect(id);
    });
    // The IRC service has let the connection go: show it at once (its `disconnected` event changes nothing more).
    for (const change of await disconnectServers(em, { kind: 'ids', ids: [id] })) {
      events.publish('server-status', { serverId: change.serverId, connected: false, connectedAt: null });
    }
    return c.json(await loadServerView(em, id), 202);
  });

  routes.post('/:id/channels', async (c) => {
    const id = idParam(c);
    const { name } = await parseJsonBody(c, joinChannelInput);
    const channelName = normalizeChannelName(name);
    const em = fork();
    const channelId = await withIrcService(em, async (tx) => {
      const server = await tx.findOne(Server, id);
      if (!server) throw notFound(id);
      const [row] = await runSql<{ id: number }>(
        tx,
        `insert into channels (server_id, name) values (?, ?)
         on conflict (server_id, name) do update set name = excluded.name returning id`,
        [id, channelName],
      );
      // A server that is not connected keeps the channel as wanted: it is joined on the next connect.
      if (server.connectedAt !== null) {
        await ircService.join(id, channelName).catch((error: unknown) => {
          if (!isNoConnection(error)) throw error;
        });
      }
      return row!.id;
    });
    const [channel] = await queryChannels(em, 'channel', [channelId]);
    if (channel) events.publish('channel', channelEvent(channel));
    return c.json({ channel }, 202);
  });

  return routes;
}
