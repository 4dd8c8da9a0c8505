import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'machines/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/support/global-database.ts'],
    env: { NODE_ENV: 'test' },
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    restoreMocks: true,
  },
});
