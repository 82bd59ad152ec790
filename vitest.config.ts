import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites each start their own slapd/redis on free ports; two cores, so keep it modest.
    maxWorkers: 2,
  },
});
