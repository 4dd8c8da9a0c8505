/** Serves the dashboard's static files. */
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

/** The dashboard is three static files, read once at start and served by Hono itself (no build step). */
const asset = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

const ASSETS = {
  html: asset('index.html'),
  js: asset('app.js'),
  css: asset('style.css'),
};

// The page loads only its own script and style and talks only to its own origin.
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function dashboardRoutes(): Hono {
  const routes = new Hono();
  routes.get('/', (c) => c.body(ASSETS.html, 200, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' }));
  routes.get('/dashboard/app.js', (c) =>
    c.body(ASSETS.js, 200, { ...SECURITY_HEADERS, 'Content-Type': 'text/javascript; charset=utf-8' }),
  );
  routes.get('/dashboard/style.css', (c) =>
    c.body(ASSETS.css, 200, { ...SECURITY_HEADERS, 'Content-Type': 'text/css; charset=utf-8' }),
  );
  return routes;
}
