import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'libs/*/src/**/*.test.ts', 'libs/*/test/**/*.test.ts'],
    // Integration tests start real processes; two files at a time fit a 2-core machine.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
