// The reference leg: the suites that check Ferry's workflows and the in-repo Temporal service against
// the real server (`temporal server start-dev`), on that server only, and the Temporal Web UI in
// Chromium. `npm run test:reference`; CI runs it beside `npm test` (which keeps to the in-repo
// service). A missing Temporal CLI or Chromium fails this leg.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/workflows/job.test.ts',
      'test/workflows/job-push.test.ts',
      'test/workflows/cycle.test.ts',
      'test/workflows/web-ui.test.ts',
      'test/temporal-service/reference.test.ts',
      'test/temporal-service/client-api.test.ts',
      'test/temporal-service/commands.test.ts',
      'test/temporal-service/activities.test.ts',
    ],
    env: { FERRY_TEMPORAL_BACKENDS: 'real' },
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
