import { Hono } from 'hono';

/** The web side's HTTP app, built from its dependencies; it never listens by itself. */
export function createWebApp(): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true }));
  return app;
}
