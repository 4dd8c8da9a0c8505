/** Reads and validates JSON request bodies; a bad one is a 400 naming the field. */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';
import { validationErrorBody } from '../../shared/validation-error.ts';

/** A 400 whose JSON body names the field at fault: `{"error":{"message":"…","field":"port"}}`. */
export function badRequest(message: string, field?: string): HTTPException {
  const body = JSON.stringify({ error: { message, ...(field !== undefined ? { field } : {}) } });
  return new HTTPException(400, {
    message,
    res: new Response(body, { status: 400, headers: { 'Content-Type': 'application/json' } }),
  });
}

/** The first problem of a zod error as a 400 naming its field, mapped as the IRC service maps it. */
export function validationError(error: z.ZodError): HTTPException {
  const { message, field } = validationErrorBody(error).error;
  return badRequest(message, field);
}

/** Reads and validates a JSON request body; anything else is a 400 that names the field. */
export async function parseJsonBody<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.infer<Schema>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest('body: expected a JSON object', 'body');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/** A positive integer path parameter (ids); a 400 naming it otherwise. */
export function idParam(c: Context, name = 'id'): number {
  const raw = c.req.param(name);
  const id = Number(raw);
  if (!raw || !/^\d+$/.test(raw) || !Number.isSafeInteger(id) || id < 1 || id > 2_147_483_647) {
    throw badRequest(`${name}: expected a positive integer`, name);
  }
  return id;
}
