/** HTTP basic auth with WEB_PASSWORD on every web route but the liveness probe. */
import type { MiddlewareHandler } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { sameSecret } from '../../shared/secret.ts';

/** Paths that answer without the password: the liveness probe a load balancer calls. */
const OPEN_PATHS = new Set(['/healthz']);

/**
 * HTTP basic auth with WEB_PASSWORD on every web route but /healthz. Any user name is accepted; browsers
 * and EventSource send the credentials they were given for the page. Answers 401 with a challenge.
 */
export function webPasswordAuth(password: string): MiddlewareHandler {
  const auth = basicAuth({
    realm: 'irc-supervisor',
    verifyUser: (_username, given) => sameSecret(given, password),
    invalidUserMessage: { error: { message: 'authentication required (WEB_PASSWORD)' } },
  });
  return (c, next) => (OPEN_PATHS.has(c.req.path) ? next() : auth(c, next));
}
