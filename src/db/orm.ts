/** Creates the MikroORM instance from the project's config and applies migrations. */
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { createOrmConfig } from '../../mikro-orm.config.ts';

export type { EntityManager } from '@mikro-orm/postgresql';
export { MikroORM };

export async function openOrm(clientUrl: string, overrides: Partial<Options> = {}): Promise<MikroORM> {
  return MikroORM.init(createOrmConfig(clientUrl, overrides));
}

/** Applies pending migrations; returns the names applied (empty when the schema is current). */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((migration) => migration.name);
}
