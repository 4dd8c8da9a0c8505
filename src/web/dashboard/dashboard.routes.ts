/** Serves the dashboard's static files. */
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

/** The dashboard is a few static files, read once at start and served by Hono itself (no build step). */
const asset = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

const ASSETS = {
  html: asset('index.html'),
  js: asset('app.js'),
  machineDiagramJs: asset('machine-diagram.js'),
  css: asset('style.css'),
  favicon: asset('favicon.svg'),
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
  routes.get('/dashboard/machine-diagram.js', (c) =>
    c.body(ASSETS.machineDiagramJs, 200, { ...SECURITY_HEADERS, 'Content-Type': 'text/javascript; charset=utf-8' }),
  );
  routes.get('/dashboard/style.css', (c) =>
    c.body(ASSETS.css, 200, { ...SECURITY_HEADERS, 'Content-Type': 'text/css; charset=utf-8' }),
  );
  // the page links the SVG; /favicon.ico answers the same icon to whatever asks by the old name
  for (const path of ['/favicon.svg', '/favicon.ico']) {
    routes.get(path, (c) =>
      c.body(ASSETS.favicon, 200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'image/svg+xml',
        'Cache-Control': 'public, max-age=86400',
      }),
    );
  }
  return routes;
}
