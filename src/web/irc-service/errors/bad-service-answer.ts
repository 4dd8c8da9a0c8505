/** Error: the IRC service answered outside its contract. */
import { InternalApiError } from './internal-api-error.ts';

/** The IRC service answered, but not as the contract says (a non-2xx status or a malformed body). */
export class BadServiceAnswer extends InternalApiError {
  override name = 'BadServiceAnswer';

  constructor(
    message: string,
    /** The HTTP status, when the answer had one. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
