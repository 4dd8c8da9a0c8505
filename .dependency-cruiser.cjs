/**
 * @module
 * What may import what (`npm run deps`, run by CI beside typecheck and lint). The layout is the
 * architecture (STYLE.md): pure machines, two sides that only meet through `src/shared/`, a process
 * layer below the database, and test and bench code that shares support through `test/support/` only.
 * Type-only imports count as much as value imports: a type from the wrong side is the wrong dependency.
 */

// dependency-cruiser's default TypeScript reader is the compiler's JS API, which TypeScript 7 does not
// ship (every .ts file would be skipped and the check would pass having read nothing), so it parses with
// swc instead (@swc/core, a devDependency).

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A module cycle: one of them must give up its import (move the shared part down). MikroORM entities ' +
        'are the exception: a relation is declared on both sides, each through a lazy `() => Entity`.',
      from: { pathNot: '^src/db/entities/' },
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      comment: 'Folders that import each other are one folder in disguise: the shared part belongs below both.',
      scope: 'folder',
      // a circle that passes through any folder outside src/web/ is reported from that folder
      from: { pathNot: '^src/web/' },
      to: { circular: true },
    },
    {
      name: 'no-circular-web-capabilities',
      severity: 'error',
      comment:
        'The capabilities of the web side form layers: irc-service (the client), browser-events and metrics ' +
        '(what /metrics exposes) at the bottom, servers (views, wishes, the disconnect transition) above them, ' +
        'health and irc-events on top.',
      scope: 'folder',
      from: { path: '^src/web/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing (a moved file, a missing package).',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment:
        'A module nothing imports and that imports nothing: dead, or forgotten in a move. Not orphans: ' +
        'config files, ambient declarations, and the dashboard script (the browser loads it, served as a file).',
      from: {
        orphan: true,
        pathNot: [
          '(^|/)\\.[^/]+\\.(c|m)?js$',
          '\\.d\\.ts$',
          '^(vitest|mikro-orm)\\.config\\.ts$',
          '^test/fixtures/[^/]+\\.vitest\\.config\\.ts$',
          '^src/web/dashboard/app\\.js$',
        ],
      },
      to: {},
    },
    {
      name: 'machines-are-pure',
      severity: 'error',
      comment: 'machines/ imports xstate and src/shared/ only (STYLE.md: machines import xstate and types only).',
      from: { path: '^machines/' },
      to: { pathNot: ['^machines/', '^src/shared/', '^node_modules/xstate/'] },
    },
    {
      name: 'irc-service-not-to-web-or-db',
      severity: 'error',
      comment: 'The IRC service knows neither the web side nor the database; what both need is in src/shared/.',
      from: { path: '^src/irc-service/' },
      to: { path: '^src/(web|db)/' },
    },
    {
      name: 'web-not-to-irc-service',
      severity: 'error',
      comment: 'The web side talks to the IRC service over HTTP only; what both need is in src/shared/.',
      from: { path: '^src/web/' },
      to: { path: '^src/irc-service/' },
    },
    {
      name: 'process-not-to-db',
      severity: 'error',
      comment: 'src/process/ runs processes for every side; the database builds on it, not the reverse.',
      from: { path: '^src/process/' },
      to: { path: '^src/db/' },
    },
    {
      name: 'product-not-to-test',
      severity: 'error',
      comment: 'src/ and machines/ ship; test/ (with its benchmarks and build scripts) does not.',
      from: { path: '^(src|machines)/' },
      to: { path: '^test/' },
    },
    {
      name: 'bench-only-to-product-and-support',
      severity: 'error',
      comment: 'test/bench/ builds on src/, machines/ and test/support/ (the support it shares with the tests).',
      from: { path: '^test/bench/' },
      to: { path: ['^test/', '^[^/]+\\.ts$'], pathNot: ['^test/support/', '^test/bench/'] },
    },
    {
      name: 'only-bench-to-bench',
      severity: 'error',
      comment: 'Tests share code with the benchmarks through test/support/; only test/bench/ imports test/bench/.',
      from: { path: '^test/', pathNot: '^test/bench/' },
      to: { path: '^test/bench/' },
    },
    {
      name: 'support-not-to-bench-or-tests',
      severity: 'error',
      comment: 'test/support/ is what tests and benchmarks share, so it imports neither of them.',
      from: { path: '^test/support/' },
      to: { path: '^test/', pathNot: '^test/support/' },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: '(^|/)node_modules/' },
    tsConfig: { fileName: 'tsconfig.json' },
    // count `import type` too: without this a type-only import would not be a dependency
    tsPreCompilationDeps: true,
    parser: 'swc',
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['types', 'import', 'require', 'node', 'default'],
      mainFields: ['types', 'typings', 'module', 'main'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
