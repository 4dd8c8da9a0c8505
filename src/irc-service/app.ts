import { Hono } from 'hono';

/** The IRC service's HTTP app, built from its dependencies; it never listens by itself. */
export function createIrcServiceApp(): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true }));
  return app;
}
