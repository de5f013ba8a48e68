// The capability probe's writes: one inactive throwaway user, changed by a standard PATCH, a
// value-path PATCH, the capitalised "Replace" spelling, the string "False" for active and a PUT, each
// read back; then deleted — always, also after a failure. Requests go exactly as written here
// (ScimClient.request), so no compatibility profile rewrites them.
import { randomBytes } from 'node:crypto';
import { SCIM_PATCH_OP_SCHEMA, SCIM_USER_SCHEMA, type ScimResource } from '../engine/types.ts';
import { check, is2xx, type CapabilityCheck } from './capability-reads.ts';
import { eqFilter } from './filter.ts';
import { scimResource } from './schemas.ts';
import type { ScimClient } from './types.ts';
import { uriComponent } from './uri.ts';

export interface WriteFindings {
  checks: CapabilityCheck[];
  /** The user the probe made (read checks use it as their sample); null when the create failed. */
  user: ScimResource | null;
  patchWorks: boolean | null;
  valuePathWorks: boolean | null;
  capitalisedOpWorks: boolean | null;
  stringBooleanWorks: boolean | null;
  putWorks: boolean | null;
  /** The probe user's userName and whether it is gone again. */
  cleanup: { userName: string; deleted: boolean; detail?: string };
  /** Why the checks stopped halfway (the target stopped answering); the user was still deleted if it could be. */
  error?: string;
}

const workEmail = (user: ScimResource): unknown =>
  (Array.isArray(user.emails) ? (user.emails as { type?: string; value?: unknown }[]) : []).find(
    (e) => e?.type === 'work',
  )?.value;

/** Creates the probe user, runs `during` with it (read checks), tries each write, and deletes it. */
export async function writeChecks(
  client: ScimClient,
  during: (user: ScimResource) => Promise<void>,
): Promise<WriteFindings> {
  const tag = randomBytes(6).toString('hex');
  const userName = `ferry-probe-${tag}@example.invalid`;
  const findings: WriteFindings = {
    checks: [],
    user: null,
    patchWorks: null,
    valuePathWorks: null,
    capitalisedOpWorks: null,
    stringBooleanWorks: null,
    putWorks: null,
    cleanup: { userName, deleted: true },
  };
  const created = await client.request({
    method: 'POST',
    path: '/Users',
    body: {
      schemas: [SCIM_USER_SCHEMA],
      userName,
      active: false,
      displayName: 'Ferry probe',
      name: { givenName: 'Ferry', familyName: 'Probe' },
      emails: [{ type: 'work', value: userName, primary: true }],
    },
  });
  const user = scimResource(created.body);
  if (!is2xx(created.status) || !user) {
    findings.checks.push(check('create', 'unsupported', `Creating an inactive user was answered ${created.status}`));
    // A 2xx without an id: the user may exist; find it by userName to delete it.
    if (is2xx(created.status)) findings.cleanup = await deleteByUserName(client, userName);
    return findings;
  }
  findings.user = user;
  findings.checks.push(check('create', 'supported', 'An inactive user was created'));
  const path = `/Users/${uriComponent(String(user.id), 'The probe user id')}`;
  try {
    await during(user);
    const read = async (): Promise<ScimResource | null> => {
      const answer = await client.request({ method: 'GET', path });
      return is2xx(answer.status) && answer.body && typeof answer.body === 'object'
        ? (answer.body as ScimResource)
        : null;
    };
    /** Sends a PATCH with these operations and reads the user back; `applied` says whether it took. */
    const patch = async (operations: unknown[], applied: (u: ScimResource) => boolean) => {
      const answer = await client.request({
        method: 'PATCH',
        path,
        body: { schemas: [SCIM_PATCH_OP_SCHEMA], Operations: operations },
      });
      if (!is2xx(answer.status)) return { works: false, detail: `answered ${answer.status}` };
      const after = await read();
      return after && applied(after)
        ? { works: true, detail: `answered ${answer.status} and applied` }
        : { works: false, detail: `answered ${answer.status} but the change is not there` };
    };
    const record = (id: string, what: string, outcome: { works: boolean; detail: string }) => {
      findings.checks.push(check(id, outcome.works ? 'supported' : 'unsupported', `${what}: ${outcome.detail}`));
      return outcome.works;
    };

    findings.patchWorks = record(
      'patch',
      'PATCH replace displayName',
      await patch(
        [{ op: 'replace', path: 'displayName', value: 'Ferry probe 2' }],
        (u) => u.displayName === 'Ferry probe 2',
      ),
    );
    const email = `ferry-probe-${tag}-2@example.invalid`;
    findings.valuePathWorks = record(
      'patchValuePath',
      'PATCH emails[type eq "work"].value',
      await patch(
        [{ op: 'replace', path: 'emails[type eq "work"].value', value: email }],
        (u) => workEmail(u) === email,
      ),
    );
    findings.capitalisedOpWorks = record(
      'patchCapitalisedOp',
      'PATCH with op "Replace"',
      await patch(
        [{ op: 'Replace', path: 'displayName', value: 'Ferry probe 3' }],
        (u) => u.displayName === 'Ferry probe 3',
      ),
    );
    // The user is inactive already: the displayName in the same PatchOp shows the request was
    // applied (a target refusing the string refuses the whole PatchOp), `active` that it read "False"
    // as false. Sent in the op spelling the target took, so only the boolean is on trial.
    const op = !findings.patchWorks && findings.capitalisedOpWorks ? 'Replace' : 'replace';
    findings.stringBooleanWorks = record(
      'patchStringBoolean',
      `PATCH active "False" (a string, op "${op}")`,
      await patch(
        [
          { op, path: 'active', value: 'False' },
          { op, path: 'displayName', value: 'Ferry probe 3b' },
        ],
        (u) => u.displayName === 'Ferry probe 3b' && (u.active === false || u.active === 'False'),
      ),
    );
    const afterString = await read();
    if (afterString && afterString.active !== false && afterString.active !== 'False') {
      // "False" read as a truthy string: make the throwaway user inactive again.
      await client.request({
        method: 'PATCH',
        path,
        body: { schemas: [SCIM_PATCH_OP_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] },
      });
    }
    const current = await read();
    if (current) {
      const { meta: _meta, ...rest } = current;
      const answer = await client.request({
        method: 'PUT',
        path,
        body: { ...rest, id: user.id, displayName: 'Ferry probe 4', active: false },
      });
      const after = is2xx(answer.status) ? await read() : null;
      findings.putWorks = record('put', 'PUT of the whole user', {
        works: after?.displayName === 'Ferry probe 4',
        detail: is2xx(answer.status)
          ? after?.displayName === 'Ferry probe 4'
            ? `answered ${answer.status} and applied`
            : `answered ${answer.status} but the change is not there`
          : `answered ${answer.status}`,
      });
    } else {
      findings.checks.push(check('put', 'inconclusive', 'The probe user could not be read back'));
    }
  } catch (error) {
    findings.error = error instanceof Error ? error.message : String(error);
  } finally {
    findings.cleanup = await deleteUser(client, path, userName);
    findings.checks.push(
      check('delete', findings.cleanup.deleted ? 'supported' : 'unsupported', findings.cleanup.detail ?? 'Deleted'),
    );
  }
  return findings;
}

async function deleteUser(client: ScimClient, path: string, userName: string): Promise<WriteFindings['cleanup']> {
  try {
    const answer = await client.request({ method: 'DELETE', path });
    if (!is2xx(answer.status) && answer.status !== 404)
      return { userName, deleted: false, detail: `DELETE was answered ${answer.status}: delete ${userName} by hand` };
    const after = await client.request({ method: 'GET', path });
    return after.status === 404
      ? { userName, deleted: true, detail: `Deleted (answered ${answer.status})` }
      : { userName, deleted: false, detail: `Still there after DELETE: delete ${userName} by hand` };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { userName, deleted: false, detail: `DELETE failed (${message}): delete ${userName} by hand` };
  }
}

async function deleteByUserName(client: ScimClient, userName: string): Promise<WriteFindings['cleanup']> {
  const { status, body } = await client.request({
    method: 'GET',
    path: '/Users',
    query: { filter: eqFilter('userName', userName) },
  });
  const found = is2xx(status) ? scimResource((body as { Resources?: unknown[] })?.Resources?.[0]) : null;
  if (!found) return { userName, deleted: true };
  return deleteUser(client, `/Users/${uriComponent(found.id as string, 'The probe user id')}`, userName);
}
