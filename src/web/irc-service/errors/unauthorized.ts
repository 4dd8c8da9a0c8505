/** Error: the IRC service refused the bearer token. */
import { InternalApiError } from './internal-api-error.ts';

/** The IRC service refused our bearer token: INTERNAL_API_TOKEN differs between the two sides. */
export class Unauthorized extends InternalApiError {
  override name = 'Unauthorized';
}
