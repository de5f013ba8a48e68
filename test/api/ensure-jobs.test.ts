// A Temporal service that lost its workflows while Ferry kept running (the in-memory dev service
// restarted) gets every job back without restarting Ferry: the API process ensures them again.
import { afterEach, describe, expect, it } from 'vitest';
import { keepProvisioningJobsEnsured } from '../../api/resources.ts';
import { openStore, type Store } from '../../store/index.ts';
import { until } from '../support/net.ts';
import { TEST_ENCRYPTION_KEY } from '../support/postgres.ts';
import { recordingProvisioning } from './helpers.ts';

let store: Store | null = null;
let keeper: { stop(): void } | null = null;
afterEach(async () => {
  keeper?.stop();
  await store?.close();
});

describe('keepProvisioningJobsEnsured', () => {
  it('ensures the job of every enabled app again, round after round, even after a round failed', async () => {
    store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
    await store.migrate();
    await store.apps.create({
      id: 'on',
      name: 'on',
      template: 'generic-scim',
      configuration: {},
      provisioningEnabled: true,
    });
    await store.apps.create({
      id: 'off',
      name: 'off',
      template: 'generic-scim',
      configuration: {},
      provisioningEnabled: false,
    });
    const { control, calls } = recordingProvisioning();
    let failures = 1;
    const errors: unknown[] = [];
    keeper = keepProvisioningJobsEnsured(
      store,
      {
        ...control,
        async ensure(appId, options) {
          // The first round finds Temporal still down.
          if (failures-- > 0) throw new Error('Temporal is unavailable');
          await control.ensure(appId, options);
        },
      },
      { everyMs: 10, onError: (error) => errors.push(error) },
    );
    await until(() => calls.filter((c) => c.method === 'ensure').length >= 2, 'two rounds of ensure');
    expect(errors).toHaveLength(1);
    expect(new Set(calls.filter((c) => c.method === 'ensure').map((c) => c.args[0]))).toEqual(new Set(['on']));
  });
});
