/**
 * The one mapping of a zod error to the error body both apps answer with a 400, so a refusal names its field the
 * same way on either side of the wire.
 */
import type { z } from 'zod';
import type { ErrorBody } from './irc-service-contract.ts';

/** The first problem of a zod error as `{error: {message: "field: problem", field}}`. */
export function validationErrorBody(error: z.ZodError): ErrorBody & { error: { field: string } } {
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    // an empty key still needs a visible name
    const field = [...issue.path.map(String), key === '' ? '""' : key].join('.');
    return { error: { message: `${field}: unknown field`, field } };
  }
  // an issue with no path is about the body as a whole (not an object, or a rule over several fields)
  const field = issue?.path.map(String).join('.') || 'body';
  return { error: { message: `${field}: ${issue?.message ?? 'invalid input'}`, field } };
}
