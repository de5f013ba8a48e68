// The app both provisioning benches provision: the generic SCIM template pointed at the fast
// loopback target, with no rate limit in the way (the benches measure Ferry, not the limiter).
import { genericScimTemplate } from '../gallery/index.ts';
import type { AppRecord, Store } from '../store/index.ts';

export function createBenchApp(
  store: Store,
  target: { baseUrl: string; token: string },
  options: {
    name: string;
    concurrency: number;
    deletionThreshold?: { percent: number };
    /** The app's rate limit (default: none in the way). */
    requestsPerSecond?: number;
    /** Turn the app's `bulk` on (SCIM Bulk requests where the target serves them). */
    bulk?: boolean;
  },
): Promise<AppRecord> {
  const template = genericScimTemplate;
  return store.apps.create({
    name: options.name,
    template: template.id,
    configuration: {
      templateId: template.id,
      name: options.name,
      target: { url: target.baseUrl },
      auth: { type: 'bearer' },
      scope: 'assigned',
      objectTypes: {
        user: { mappings: template.objectTypes.user.mappings },
        group: { mappings: template.objectTypes.group?.mappings ?? [] },
      },
      ...(options.deletionThreshold ? { deletionThreshold: options.deletionThreshold } : {}),
      ...(options.bulk ? { bulk: true } : {}),
      rateLimit: { requestsPerSecond: options.requestsPerSecond ?? 1_000_000, concurrency: options.concurrency },
    },
    secrets: { token: target.token },
    provisioningEnabled: true,
  });
}
