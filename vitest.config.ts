import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/**/*.test.ts',
      'engine/**/*.test.ts',
      'scim/**/*.test.ts',
      'store/**/*.test.ts',
      'dev/**/*.test.ts',
    ],
    // The journey suite has its own configuration (vitest.journeys.config.ts, `npm run test:journeys`);
    // the Web UI test needs the real Temporal server and Chromium (`npm run test:reference`); the
    // console's tests have theirs (vitest.console.config.ts, `npm run test:console`).
    exclude: ['test/journeys/**', 'test/workflows/web-ui.test.ts', 'test/console/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
