// Runs a cycle the way provisioningCycleWorkflow does, calling the activities directly.
import type { CyclePhase, CycleSummary, FerryActivities } from '../../activities/types.ts';
import { createFerryActivities, type ActivityDeps, type FerryActivityHandle } from '../../activities/index.ts';
import { PermanentError } from '../../engine/errors.ts';
import { createScimClient, type ScimClient, type ScimClientOptions } from '../../scim/index.ts';
import { openStore, type Store } from '../../store/index.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY } from '../support/postgres.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { groupId, upn, userId } from '../provisioning/fixtures.ts';

export async function runCycleDirect(
  activities: FerryActivities,
  input: {
    appId: string;
    cycleNumber: number;
    kind: 'initial' | 'incremental';
    watermark: number | null;
    batchSize?: number;
    deletionsApproved?: boolean;
    deletionsRejected?: boolean;
  },
): Promise<CycleSummary> {
  const failure = await activities.checkTarget({ appId: input.appId });
  const begun = await activities.beginCycle({
    appId: input.appId,
    cycleNumber: input.cycleNumber,
    kind: input.kind,
    watermark: input.watermark,
    deletionsApproved: input.deletionsApproved ?? false,
    deletionsRejected: input.deletionsRejected ?? false,
  });
  let stop = failure;
  if (!stop) {
    await activities.deletionGuard({
      appId: input.appId,
      cycleId: begun.cycleId,
      deletionsApproved: input.deletionsApproved ?? false,
    });
    outer: for (const phase of ['users', 'groups', 'references'] as CyclePhase[]) {
      let cursor = 0;
      for (;;) {
        const r = await activities.processBatch({
          appId: input.appId,
          cycleId: begun.cycleId,
          phase,
          cursor,
          batchSize: input.batchSize ?? 50,
        });
        if (r.failure) {
          stop = r.failure;
          break outer;
        }
        cursor = r.nextCursor;
        if (r.done) break;
      }
    }
  }
  return activities.finishCycle({ appId: input.appId, cycleId: begun.cycleId, failure: stop });
}

/** Begins cycle 1 of an app as an initial cycle (no held deletions); returns its id. */
export async function beginInitialCycle(activities: FerryActivities, appId: string): Promise<string> {
  const { cycleId } = await activities.beginCycle({
    appId,
    cycleNumber: 1,
    kind: 'initial',
    watermark: null,
    deletionsApproved: false,
    deletionsRejected: false,
  });
  return cycleId;
}

/** Users 1..count with the managers `managerIndex` gives, all direct members of group 1 ("Everyone"). */
export async function seedOrgChart(
  store: Store,
  count: number,
  managerIndex: (i: number) => number | null,
): Promise<void> {
  await store.directory.bulkUpsertUsers(
    Array.from({ length: count }, (_, n) => {
      const manager = managerIndex(n + 1);
      return {
        id: userId(n + 1),
        userPrincipalName: upn(n + 1),
        displayName: `User ${n + 1}`,
        managerId: manager === null ? null : userId(manager),
      };
    }),
  );
  await store.directory.createGroup({ id: groupId(1), displayName: 'Everyone' });
  for (let i = 1; i <= count; i++) await store.directory.addMember(groupId(1), userId(i));
}

/** What most activity tests start from: a fresh Postgres database, a scimmy peer and the activities. */
/** One group, `groupId(1)` "Everyone", of `members` users (`userId(1)`…, member1@contoso.com…). */
export async function seedOneGroup(store: Store, members: number): Promise<void> {
  const ids = Array.from({ length: members }, (_, k) => k + 1);
  await store.directory.bulkUpsertUsers(
    ids.map((k) => ({ id: userId(k), userPrincipalName: `member${k}@contoso.com`, displayName: `Member ${k}` })),
  );
  await store.directory.bulkUpsertGroups([{ id: groupId(1), displayName: 'Everyone' }]);
  await store.directory.bulkAddMembers(
    ids.map((k) => ({ groupId: groupId(1), memberId: userId(k), memberType: 'user' as const })),
  );
}

export interface ActivityTestbed {
  store: Store;
  peer: ScimPeer;
  handle: FerryActivityHandle;
  /** Closes the activities, the peer and the store, and drops the database. */
  close(): Promise<void>;
}

export async function openActivityTestbed(
  prefix: string,
  options: { poolSize?: number; deps?: Omit<Partial<ActivityDeps>, 'store'> } = {},
): Promise<ActivityTestbed> {
  const db = await createTestDatabase(prefix);
  const store = await openStore({
    databaseUrl: db.url,
    encryptionKey: TEST_ENCRYPTION_KEY,
    poolSize: options.poolSize ?? 4,
  });
  const peer = await startScimmyPeer();
  const handle = createFerryActivities({ store, allowInsecureLoopback: true, ...options.deps });
  const close = async () => {
    await handle.close();
    await peer.close();
    await store.close();
    await db.drop();
  };
  try {
    await store.migrate();
  } catch (error) {
    await close();
    throw error;
  }
  return { store, peer, handle, close };
}

/**
 * A SCIM client factory whose client refuses (400, PermanentError) to create the users `refuses`
 * names, as a target rejecting an attribute value would; everything else reaches the real target.
 */
export function refusingCreates(refuses: (userName: string) => boolean): (options: ScimClientOptions) => ScimClient {
  return (options) => {
    const client = createScimClient(options);
    return {
      ...client,
      createOrAdopt: async (type, resource, match) => {
        if (refuses(String(resource.userName))) {
          throw new PermanentError('userName is not acceptable', { code: 'BadRequest', status: 400 });
        }
        return client.createOrAdopt(type, resource, match);
      },
    };
  };
}
