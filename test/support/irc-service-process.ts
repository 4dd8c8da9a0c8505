/** Starts the IRC service as a real process for tests. */
import { freePort } from '../../src/process/free-port.ts';
import { type RunningProcess, runProjectProcess } from './process.ts';

/** The IRC service as a real process on a free loopback port, resolved once it listens. */
export async function startIrcServiceProcess(
  token: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ service: RunningProcess; url: string }> {
  const port = await freePort();
  const service = runProjectProcess('src/irc-service/main.ts', {
    INTERNAL_API_TOKEN: token,
    IRC_SERVICE_HOST: '127.0.0.1',
    IRC_SERVICE_PORT: String(port),
    LOG_LEVEL: 'info',
    ...env,
  });
  await service.waitForOutput(/IRC service listening on/);
  return { service, url: `http://127.0.0.1:${port}` };
}
