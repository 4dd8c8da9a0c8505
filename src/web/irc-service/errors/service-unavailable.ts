/** Error: the IRC service cannot be reached. */
import { InternalApiError } from './internal-api-error.ts';

/**
 * The IRC service cannot be reached at all (connection refused, reset, no route). Unlike a timeout this is
 * proof that no IRC connection is alive there, so the health check disconnects every server.
 */
export class ServiceUnavailable extends InternalApiError {
  override name = 'ServiceUnavailable';
}
