import { defineConfig } from 'vitest/config';

// The operator console's tests: the session and CSRF checks, and the Chromium journey (which
// needs /usr/bin/chromium, or FERRY_CHROMIUM). `npm run test:console`.
export default defineConfig({
  test: {
    include: ['test/console/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
