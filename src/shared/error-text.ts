/**
 * What a caught error says, for a log line, a reason shown to the operator or a health report. Anything thrown
 * that is not an Error is taken as its text.
 */

/** The error's message. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The message, with its cause's system code when it has one (a failed fetch says only "fetch failed"; the cause
 * tells ECONNREFUSED from ENOTFOUND).
 */
export function errorMessageWithCode(error: unknown): string {
  const code = error instanceof Error ? socketErrorCode(error.cause) : undefined;
  return code ? `${errorMessage(error)} (${code})` : errorMessage(error);
}

/** The errno-style code of a failure's cause (`ECONNREFUSED`); undici wraps parallel connect attempts in an AggregateError. */
export function socketErrorCode(cause: unknown): string | undefined {
  if (!cause || typeof cause !== 'object') return undefined;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (cause instanceof AggregateError) {
    for (const inner of cause.errors) {
      const innerCode = socketErrorCode(inner);
      if (innerCode) return innerCode;
    }
  }
  return undefined;
}

/** Its name and message: the health report's `error`. */
export function errorNameAndMessage(error: unknown): { name: string; message: string } {
  return { name: error instanceof Error ? error.name : 'Error', message: errorMessage(error) };
}
