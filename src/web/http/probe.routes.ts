/** Liveness and readiness probes (`/healthz`, `/readyz`). */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { MikroORM } from '../../db/orm.ts';

export interface ProbeRoutesDeps {
  orm: MikroORM;
  /** Longest wait for the database before `/readyz` answers 503 (a pool waiting for a connection can take a minute). */
  readyTimeoutMs?: number;
}

/** `/healthz`: the process serves (no database). `/readyz`: the database answers too. */
export function probeRoutes({ orm, readyTimeoutMs = 2_000 }: ProbeRoutesDeps): Hono {
  const routes = new Hono();
  routes.get('/healthz', (c) => c.json({ ok: true }));
  routes.get('/readyz', async (c) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    });
    try {
      await Promise.race([orm.em.fork().execute('select 1'), timeout]);
    } catch (error) {
      throw new HTTPException(503, { message: 'the database is unreachable', cause: error });
    } finally {
      clearTimeout(timer);
    }
    return c.json({ ok: true });
  });
  return routes;
}
