// Group membership changes: PATCH add/remove in chunks (one GET + PUT for put-only targets), and a
// retried removal that meets `400 noTarget` removes one member at a time, "already gone" being done.
import { PermanentError } from '../engine/errors.ts';
import type { CompatibilityProfile, PatchOperation } from '../engine/types.ts';
import type { Resources } from './resources.ts';

export interface MemberDeps {
  patch: Resources['patch'];
  usePut: Resources['usePut'];
  profile: CompatibilityProfile;
}

export type ChangeMembers = (
  op: 'add' | 'remove',
  groupId: string,
  memberIds: string[],
  chunkSize: number,
  /** Called after each chunk the target took, with its number of members. */
  onWritten?: (members: number) => void,
) => Promise<void>;

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
}

export function createMemberChanges({ patch, usePut, profile }: MemberDeps): ChangeMembers {
  return async function changeMembers(op, groupId, memberIds, chunkSize, onWritten) {
    if (!(chunkSize >= 1)) throw new RangeError('chunkSize must be at least 1');
    const unique = [...new Set(memberIds)];
    if (unique.length === 0) return;
    // PUT-only: every PUT carries the whole member list, so chunks would only repeat GET + PUT.
    for (const ids of (await usePut()) ? [unique] : chunk(unique, chunkSize)) {
      const operations: PatchOperation[] =
        op === 'add' || profile === 'entra-2017'
          ? [{ op, path: 'members', value: ids.map((value) => ({ value })) }]
          : // RFC 7644 §3.5.2.2: removal of specific values uses a value filter in the path.
            ids.map((id) => ({ op: 'remove', path: `members[value eq ${JSON.stringify(id)}]` }));
      try {
        await patch('Groups', groupId, operations);
      } catch (error) {
        // A retried removal (first answer lost) finds some members already gone; RFC 7644 answers
        // that with 400 noTarget and rejects the whole PatchOp. Remove one by one; gone is done.
        if (!(op === 'remove' && error instanceof PermanentError && error.scimType === 'noTarget')) throw error;
        for (const operation of operations.length > 1 ? operations : []) {
          try {
            await patch('Groups', groupId, [operation]);
          } catch (single) {
            if (!(single instanceof PermanentError && single.scimType === 'noTarget')) throw single;
          }
        }
      }
      onWritten?.(ids.length);
    }
  };
}
