/** Error: the IRC service did not answer in time. */
import { InternalApiError } from './internal-api-error.ts';

/** The IRC service did not answer within `IRC_STATUS_TIMEOUT_MS`: it may be busy or hung, so nothing is known. */
export class ServiceTimeout extends InternalApiError {
  override name = 'ServiceTimeout';

  constructor(
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`the IRC service did not answer within ${timeoutMs} ms`, options);
  }
}
