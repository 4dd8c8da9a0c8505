/** Base of the errors an `InternalApiClient` call fails with, so callers can tell them from bugs. */
export class InternalApiError extends Error {
  override name = 'InternalApiError';
}
