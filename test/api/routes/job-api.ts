// The real API over the real job: the provisioning harness (real worker and activities on the
// in-repo Temporal service, a fresh Postgres), the Temporal provisioning control the API process
// uses, and a third-party SCIM peer; plus an app provisioned once over a seeded directory.
import type { ActivityDeps } from '../../../activities/index.ts';
import { createTemporalProvisioningControl } from '../../../api/temporal.ts';
import type { AppConfigInput } from '../../../engine/config/index.ts';
import { createApp, seedDirectory, type DirectoryShape } from '../../provisioning/fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from '../../provisioning/harness.ts';
import { startScimmyPeer, type ScimPeer } from '../../support/scim-peers.ts';
import { storeApp } from './helpers.ts';

export interface JobApi {
  h: ProvisioningHarness;
  peer: ScimPeer;
  api: Awaited<ReturnType<typeof storeApp>>;
  close(): Promise<void>;
}

export async function startJobApi(
  options: { deps?: Partial<ActivityDeps>; api?: Omit<Parameters<typeof storeApp>[0], 'store' | 'provisioning'> } = {},
): Promise<JobApi> {
  const peer = await startScimmyPeer();
  const h = await startProvisioningHarness({ deps: options.deps });
  const control = createTemporalProvisioningControl({ client: h.env.client.workflow, taskQueue: h.taskQueue });
  const api = await storeApp({ ...options.api, store: h.store, provisioning: control });
  return {
    h,
    peer,
    api,
    close: async () => {
      await api.close();
      await h.close();
      await peer.close();
    },
  };
}

/** Seeds the directory, creates the app (every group assigned), starts its job and waits for the initial cycle. */
export async function provisionedApp(
  t: JobApi,
  shape: DirectoryShape,
  overrides?: Partial<AppConfigInput>,
): Promise<string> {
  await seedDirectory(t.h.store, shape);
  const appId = await createApp(t.h.store, t.peer, { shape, overrides });
  await t.h.startJob(appId);
  await t.h.waitForCycle(appId, 1);
  return appId;
}
