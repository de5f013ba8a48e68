// Drift: how a target account differs from what Ferry last exported to it. A reconcile pass reads
// the target page by page and asks, per account, whether it is still as Ferry left it. The answer
// for an edited account carries the ONE PATCH that puts the last exported values back, computed
// from the link alone (the directory is not read: a directory change is the next cycle's business).
import { setScimValue } from '../mapping/scimPath.ts';
import type { Link, ModifiedAttribute, PatchOperation, ScimResource } from '../types.ts';
import { cachedPath, diffResource } from './diffResource.ts';

export type AccountDrift =
  /** The account holds the last exported values. */
  | { kind: 'inStep' }
  /** Someone changed the account in the target: `attributes` old = the target's, new = last exported. */
  | { kind: 'edited'; attributes: ModifiedAttribute[]; operations: PatchOperation[] }
  /** The link points at an account the target no longer has. */
  | { kind: 'deleted' }
  /** An account in the target that no link points at. */
  | { kind: 'orphan' }
  /** Linked, but what was exported is not known (a link from before Ferry kept values): nothing to compare. */
  | { kind: 'unknown' };

export type DriftLink = Pick<Link, 'targetId' | 'exportedValues' | 'active'>;

/**
 * Classifies one account. `link`: the link whose target id the account has (null: none);
 * `account`: the account as the target returned it (null: the target does not have it).
 * Secrets (kept only as hashes) are never compared: targets do not return them.
 */
export function accountDrift(link: DriftLink | null, account: ScimResource | null): AccountDrift {
  if (link === null || link.targetId === null) return account === null ? { kind: 'inStep' } : { kind: 'orphan' };
  if (account === null) return { kind: 'deleted' };
  const exported = link.exportedValues;
  if (!exported) return { kind: 'unknown' };
  const expected: ScimResource = { schemas: [] };
  const paths = Object.keys(exported.values);
  for (const path of paths) {
    const value = exported.values[path];
    if (value !== null && value !== undefined) setScimValue(expected, cachedPath(path), value);
  }
  // A disable leaves the exported values as they were and sets only `active` (exportedValues.ts).
  if (!link.active) {
    expected.active = false;
    if (!paths.includes('active')) paths.push('active');
  }
  const { operations, modifiedAttributes } = diffResource(account, expected, paths);
  return operations.length === 0 ? { kind: 'inStep' } : { kind: 'edited', attributes: modifiedAttributes, operations };
}
