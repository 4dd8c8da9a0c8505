import { serve } from '@hono/node-server';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { listen } from '../process/listen.ts';
import { runMain } from '../process/run-main.ts';
import { createIrcServiceApp } from './app.ts';

await runMain('irc-service', async (onShutdown) => {
  const config = loadConfig(process.env, 'irc');
  const logger = createLogger('irc-service', config.LOG_LEVEL);
  const app = createIrcServiceApp();
  const server = await listen(serve, app, config.IRC_SERVICE_HOST, config.IRC_SERVICE_PORT);
  onShutdown(() => server.close());
  logger.info(`IRC service listening on ${server.url}`);
});
