/** The connection machine's settings from a validated `PUT /internal/irc/connections/:serverId` body. */
import type { IrcConnectionSettings } from '../../machines/irc-connection.machine.ts';
import { type ConnectionRequestBody, normalizeFingerprint } from '../shared/irc-service-contract.ts';
import type { ConnectionRequest } from './irc-connection-registry.ts';

/** The machine's settings from a validated body (optional fields left out rather than undefined). */
export function settingsFromBody(body: ConnectionRequestBody): IrcConnectionSettings {
  const settings: IrcConnectionSettings = { host: body.host, port: body.port, tls: body.tls, nickname: body.nickname };
  if (body.username !== undefined) settings.username = body.username;
  if (body.realname !== undefined) settings.realname = body.realname;
  if (body.password !== undefined) settings.password = body.password;
  if (!body.tlsVerify) settings.tlsVerify = false;
  if (body.tlsFingerprint !== undefined) settings.tlsFingerprint = normalizeFingerprint(body.tlsFingerprint);
  if (body.clientCertificate !== undefined) settings.clientCertificate = body.clientCertificate;
  if (body.clientKey !== undefined) settings.clientKey = body.clientKey;
  if (body.sasl !== undefined) settings.sasl = body.sasl;
  if (!body.saslRequired) settings.saslRequired = false;
  return settings;
}

/** A validated body as the registry takes it: the settings and, when given, the channels. */
export function requestFromBody(body: ConnectionRequestBody): ConnectionRequest {
  return { settings: settingsFromBody(body), channels: body.channels };
}
