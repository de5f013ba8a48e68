// What a repair pass does with an orphan (a target account no link points at), by the app's
// `orphanPolicy`: `report` leaves it; `adopt` links it to the in-scope directory user it matches by
// the app's matching attributes (engine/matching/orphanMatch.ts: the pipeline's matching, looked up
// from the account's side), so the next cycle manages it; `disable` sets active=false once and never
// deletes, except that an account an unlinked in-scope user matches is left for the next cycle to
// adopt. Each action holds the object's lock (the matched user, or for a disable the account itself)
// and is written to the provisioning log under an id fixed by pass and account, so a retry repeats none.
import { FerryError } from '../engine/errors.ts';
import { applyMappings, userSourceAttributes } from '../engine/mapping/index.ts';
import { buildOrphanIndex, matchCandidates, matchOrphan, type OrphanIndex } from '../engine/matching/index.ts';
import { evaluateScope } from '../engine/scoping/index.ts';
import type { LogStep, ProvisioningAction, ProvisioningLogEntry, ScimResource } from '../engine/types.ts';
import { logEntryId, type DriftFinding } from '../store/index.ts';
import { loadDirectoryContext } from './cycle-context.ts';
import { ClaimLostError } from './errors.ts';
import { assertClaimHeld, releaseClaims, tryClaim } from './object-locks.ts';
import { mappingEnv } from './pipeline/desired.ts';
import type { Pass } from './reconcile.ts';

const LOCK_TTL_MS = 2 * 60_000;
const DIRECTORY_PAGE = 1000;

export type OrphanAccount = ScimResource & { id: string };

/** The in-scope directory users no account is linked to, indexed by their match candidates. */
async function loadOrphanIndex(pass: Pass): Promise<OrphanIndex> {
  const { store } = pass.s;
  const { runtime } = pass;
  const compiled = runtime.compiled.user;
  pass.directory ??= await loadDirectoryContext(store, runtime);
  const scope = pass.directory.scope.user;
  const env = mappingEnv(pass.s.now());
  const objects: { sourceId: string; candidates: ReturnType<typeof matchCandidates> }[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.directory.listUsers({ cursor, limit: DIRECTORY_PAGE });
    const links = await store.links.getMany(
      pass.record.appId,
      'user',
      page.items.map((u) => u.id),
    );
    for (const user of page.items) {
      if (links.get(user.id)?.targetId) continue;
      if (!evaluateScope({ objectType: 'user', object: user }, scope).inScope) continue;
      const mapped = applyMappings(compiled, userSourceAttributes(user), {
        operation: 'create',
        env,
        resolveReference: () => null,
      });
      if (mapped.errors.length === 0)
        objects.push({ sourceId: user.id, candidates: matchCandidates(compiled, mapped.resource) });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return buildOrphanIndex(
    compiled.matching.map((m) => m.target),
    objects,
  );
}

/** The finding's fields for an orphan under the app's policy (a repair pass only). */
export async function handleOrphan(pass: Pass, account: OrphanAccount): Promise<Partial<DriftFinding>> {
  const policy = pass.runtime.config.orphanPolicy;
  if (policy === 'report') return {};
  pass.orphans ??= await loadOrphanIndex(pass);
  const match = matchOrphan(pass.orphans, account);
  if (policy === 'adopt') {
    return match.outcome === 'matched' ? adopt(pass, account, match.sourceId, match.attribute) : {};
  }
  // An unlinked in-scope user matches it: the next cycle of that user adopts it, so it is not disabled.
  if (match.outcome === 'matched') return { sourceId: match.sourceId };
  return account.active === false ? {} : disable(pass, account);
}

function orphanLog(
  pass: Pass,
  account: OrphanAccount,
  fields: {
    sourceId: string;
    action: ProvisioningAction;
    failure: FerryError | null;
    steps: LogStep[];
    startedMs: number;
  },
): ProvisioningLogEntry {
  const { failure } = fields;
  return {
    id: logEntryId('reconcile', pass.record.id, 'orphan', account.id),
    time: pass.s.now().toISOString(),
    appId: pass.record.appId,
    cycleId: null,
    changeId: null,
    objectType: 'user',
    sourceId: fields.sourceId,
    sourceDisplayName:
      typeof account.userName === 'string' ? account.userName : ((account.displayName as string | undefined) ?? null),
    targetId: account.id,
    action: fields.action,
    status: failure ? 'Failure' : 'Success',
    errorCode: failure?.code ?? null,
    errorMessage: failure?.message ?? null,
    steps: fields.steps,
    modifiedAttributes: fields.action === 'Disable' ? [{ name: 'active', oldValue: true, newValue: false }] : [],
    durationMs: Date.now() - fields.startedMs,
    onDemand: false,
  };
}

/** Links the account to the user it matches, under the user's lock; the next cycle exports to it. */
async function adopt(
  pass: Pass,
  account: OrphanAccount,
  sourceId: string,
  attribute: string,
): Promise<Partial<DriftFinding>> {
  const { store } = pass.s;
  const { appId } = pass.record;
  const got = await tryClaim(store, appId, 'user', [sourceId], pass.holder, LOCK_TTL_MS);
  if (!got.has(sourceId)) return { sourceId, outcome: 'busy' };
  const startedMs = Date.now();
  try {
    // Decided again under the lock: a cycle may have linked the user, or another user the account.
    const link = await store.links.get(appId, 'user', sourceId);
    const taken = await store.links.getByTargetIds(appId, 'user', [account.id]);
    // Linked meanwhile (a cycle, or an earlier orphan of this pass the same user matched): stays reported.
    if (link?.targetId || taken.size > 0) return { sourceId, outcome: 'reported' };
    await assertClaimHeld(store, appId, 'user', sourceId, pass.holder);
    await store.links.upsert({
      appId,
      objectType: 'user',
      sourceId,
      targetId: account.id,
      exportedHash: null,
      exportedValues: null,
      active: account.active !== false,
    });
    const entry = orphanLog(pass, account, {
      sourceId,
      action: 'Other',
      failure: null,
      startedMs,
      steps: [
        {
          name: 'matching',
          status: 'Success',
          details: {
            detail: 'orphan adopted: the account matches this user and is linked to it; the next cycle updates it',
            attribute,
            reconcilePassId: pass.record.id,
          },
        },
      ],
    });
    await store.logs.insert([entry]);
    return { sourceId, outcome: 'adopted', logId: entry.id };
  } catch (error) {
    if (error instanceof ClaimLostError) return { sourceId, outcome: 'busy' };
    throw error;
  } finally {
    await releaseClaims(store, appId, 'user', [sourceId], pass.holder);
  }
}

/** Sets the account active=false with one PATCH, holding a lock on the account; never deletes it. */
async function disable(pass: Pass, account: OrphanAccount): Promise<Partial<DriftFinding>> {
  const { store } = pass.s;
  const { appId } = pass.record;
  // No directory object owns it: the lock is the account's, and fences a stale attempt of this pass.
  const lockId = `orphan:${account.id}`;
  const got = await tryClaim(store, appId, 'user', [lockId], pass.holder, LOCK_TTL_MS);
  if (!got.has(lockId)) return { outcome: 'busy' };
  const startedMs = Date.now();
  try {
    if ((await store.links.getByTargetIds(appId, 'user', [account.id])).size > 0) return { outcome: 'busy' };
    let failure: FerryError | null = null;
    try {
      await assertClaimHeld(store, appId, 'user', lockId, pass.holder);
      await pass.runtime.client.patch('Users', account.id, [{ op: 'replace', path: 'active', value: false }]);
    } catch (error) {
      if (error instanceof ClaimLostError) return { outcome: 'busy' };
      if (!(error instanceof FerryError) || error.kind === 'configuration') throw error;
      failure = error;
    }
    const entry = orphanLog(pass, account, {
      sourceId: '',
      action: 'Disable',
      failure,
      startedMs,
      steps: [
        {
          name: 'export',
          status: failure ? 'Failure' : 'Success',
          details: {
            detail: 'orphan disabled: no link points at the account and no directory user in scope matches it',
            method: 'PATCH',
            reconcilePassId: pass.record.id,
            ...(failure ? { error: failure.message } : {}),
          },
        },
      ],
    });
    await store.logs.insert([entry]);
    return failure
      ? { outcome: 'failed', errorCode: failure.code, errorMessage: failure.message, logId: entry.id }
      : { outcome: 'disabled', logId: entry.id };
  } finally {
    await releaseClaims(store, appId, 'user', [lockId], pass.holder);
  }
}
