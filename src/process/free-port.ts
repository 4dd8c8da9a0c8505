/** Finds a free loopback port. */
import { createServer } from 'node:net';

/** A loopback port nobody listens on right now (the kernel picks it; freed at once for the caller). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject()));
    });
  });
}
