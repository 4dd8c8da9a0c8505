import { serve } from '@hono/node-server';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/database-url.ts';
import { migrate, openOrm } from '../db/orm.ts';
import { createLogger } from '../logger.ts';
import { listen } from '../process/listen.ts';
import { runMain } from '../process/run-main.ts';
import { createWebApp } from './app.ts';

await runMain('web', async (onShutdown) => {
  const config = loadConfig(process.env, 'web');
  const logger = createLogger('web', config.LOG_LEVEL);
  const database = await openDatabase(config, logger);
  onShutdown(() => database.stop());
  const orm = await openOrm(database.url);
  onShutdown(() => orm.close());
  const applied = await migrate(orm);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');

  const app = createWebApp();
  const server = await listen(serve, app, config.HOST, config.PORT);
  onShutdown(() => server.close());
  logger.info(`web listening on ${server.url}`);
});
