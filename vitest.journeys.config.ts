// The journey suite (test/journeys/): Ferry started as processes and driven over HTTP. One file at a
// time — each starts its own Ferry processes and would compete for the CPU with the others — and
// long bounds, because a journey waits on real cycles (nothing here is a timing assertion).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/journeys/**/*.test.ts'],
    globalSetup: ['test/journeys/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
