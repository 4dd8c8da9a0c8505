/** Raw SQL on an EntityManager's transaction, for the set-based paths. */
import type { Knex } from '@mikro-orm/postgresql';
import type { EntityManager } from './orm.ts';

export type SqlBinding = Knex.RawBinding;

/**
 * Runs one raw statement on the transaction of `em` when it has one, with real bindings (a JS array
 * binds as one PostgreSQL array: `= any(?::int[])`). For the set-based hot paths where the ORM's
 * unit of work would only add overhead.
 */
export async function runSql<Row>(
  em: EntityManager,
  sql: string,
  bindings: readonly SqlBinding[] = [],
): Promise<Row[]> {
  const query = em.getKnex().raw(sql, bindings as SqlBinding[]);
  const transaction = em.getTransactionContext<Knex.Transaction>();
  if (transaction) query.transacting(transaction);
  const result = (await query) as { rows: Row[] };
  return result.rows;
}

/** Timestamps come back from raw statements as text (MikroORM parses dates itself): read them as ISO 8601. */
export function toIsoTimestamp(value: Date | string): string;
export function toIsoTimestamp(value: Date | string | null): string | null;
export function toIsoTimestamp(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

/**
 * A PostgreSQL array literal (`{1,2,3}`) bound as one text parameter and cast with `::int[]`. node-postgres
 * would build the same literal from a JS array, but escapes every element on the way; with 10,000 live ids
 * that costs about a millisecond per statement on the hot path.
 */
export function intArray(ids: readonly number[]): string {
  return `{${ids.join(',')}}`;
}
