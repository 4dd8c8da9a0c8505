/** `npm run db:migrate`: applies pending migrations to the configured database and exits. */
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { runMain } from '../process/run-main.ts';
import { openDatabase } from './database-url.ts';
import { migrate, openOrm } from './orm.ts';

await runMain('db:migrate', async (onShutdown) => {
  const config = loadConfig(process.env, 'database');
  const logger = createLogger('db:migrate', config.LOG_LEVEL);
  const database = await openDatabase(config, logger);
  onShutdown(() => database.stop());
  const orm = await openOrm(database.url);
  onShutdown(() => orm.close());
  const applied = await migrate(orm);
  console.log(applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`);
  return 'finished';
});
