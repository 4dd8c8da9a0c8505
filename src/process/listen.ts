/** Serves a Hono app on a port, and closes it with its open streams. */
import type { serve as honoServe } from '@hono/node-server';
import type { Hono } from 'hono';

export interface ListeningServer {
  url: string;
  /** Ends open streams (SSE) first: `server.close()` alone never finishes while one is connected. */
  close(): Promise<void>;
}

/** Serves a Hono app and resolves once it listens; rejects with a clear message when the port is taken. */
export function listen(serve: typeof honoServe, app: Hono, hostname: string, port: number): Promise<ListeningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, (info) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            if ('closeAllConnections' in server) server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`${hostname}:${port} is already in use; stop the other process or choose another port`)
          : error,
      );
    });
  });
}
