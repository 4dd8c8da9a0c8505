import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { entities } from './src/db/entities/index.ts';
import { migrationsList } from './src/db/migrations/index.ts';

/**
 * One configuration for the app, the tests and the MikroORM CLI.
 * Migrations are listed explicitly (no folder scan) so they load the same under tsx, vitest and the CLI.
 */
export function createOrmConfig(clientUrl: string, overrides: Partial<Options> = {}): Options {
  return defineConfig({
    clientUrl,
    entities,
    extensions: [Migrator],
    migrations: {
      migrationsList,
      path: 'src/db/migrations',
      pathTs: 'src/db/migrations',
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    // vitest resolves dynamic imports through its own loader
    dynamicImportProvider: (id: string) => import(id),
    discovery: { warnWhenNoEntities: true },
    allowGlobalContext: false,
    debug: false,
    pool: { min: 0, max: 10 },
    ...overrides,
  });
}

export default createOrmConfig(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/irc_supervisor');
