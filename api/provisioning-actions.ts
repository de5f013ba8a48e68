// What each provisioning action does in each job state, and the 409 it answers where it would have
// no effect. No action is accepted and then dropped: a signal the job would ignore (runNow while
// paused, approve with nothing staged, …) is refused here, with a code and what to do instead.
// The state is the job's status query (its intended state: an action already queued counts).
// The table is docs/operations.md's "Actions in every state"; keep both in step.
import type { ApiErrorCode } from './errors.ts';
import type { JobStatus } from './provisioning-control.ts';

export const PROVISIONING_ACTIONS = [
  'start',
  'pause',
  'resume',
  'run',
  'restart',
  'approve-deletions',
  'reject-deletions',
  'quarantine',
  'release',
] as const;
export type ProvisioningAction = (typeof PROVISIONING_ACTIONS)[number];

/** A reason to refuse an action: its code (status 409) and a message saying what to do. */
export interface ActionRefusal {
  code: ApiErrorCode;
  message: string;
}

const path = (appId: string, action: string) => `POST /api/v1/apps/${appId}/provisioning/${action}`;

const notRunning = (appId: string): ActionRefusal => ({
  code: 'job_not_running',
  message: `Provisioning is not running for app ${appId}: start it first (${path(appId, 'start')})`,
});
const paused = (appId: string, what: string): ActionRefusal => ({
  code: 'job_paused',
  message: `The job is paused, so ${what}: resume it first (${path(appId, 'resume')})`,
});
const disabled = (appId: string): ActionRefusal => ({
  code: 'job_disabled',
  message: `The job is disabled (4 weeks in quarantine): release it (${path(appId, 'release')}) or restart it (${path(appId, 'restart')})`,
});
const nothingStaged = (appId: string, verb: string): ActionRefusal => ({
  code: 'no_pending_deletions',
  message: `No staged deletions to ${verb} for app ${appId} (see pendingDeletions in GET /api/v1/apps/${appId}/provisioning)`,
});

/**
 * Why `action` would have no effect on a job with this status (null: no job running), or null when
 * the job acts on it.
 */
export function refusalOf(action: ProvisioningAction, appId: string, status: JobStatus | null): ActionRefusal | null {
  if (status === null) return action === 'start' ? null : notRunning(appId);
  const state = status.state;
  const staged = status.pendingDeletions > 0;
  switch (action) {
    case 'start':
      // Starts or un-pauses; a running job is left as it is (idempotent). Disabled stays disabled.
      return state === 'disabled' ? disabled(appId) : null;
    case 'pause':
      return state === 'disabled' ? disabled(appId) : null;
    case 'resume':
      if (state === 'disabled') return disabled(appId);
      if (state === 'quarantined')
        return {
          code: 'job_quarantined',
          message: `The job is quarantined, not paused (${status.quarantine?.reason ?? 'quarantine'}): release it (${path(appId, 'release')}) or restart it`,
        };
      return null;
    case 'run':
      if (state === 'paused') return paused(appId, 'no cycle can run');
      return state === 'disabled' ? disabled(appId) : null;
    case 'restart':
      // Resets and runs an initial cycle in every state; it also un-pauses and leaves quarantine.
      return null;
    case 'approve-deletions':
      if (state === 'disabled') return disabled(appId);
      if (!staged) return nothingStaged(appId, 'approve');
      return state === 'paused' ? paused(appId, 'the approved deletions cannot be sent') : null;
    case 'reject-deletions':
      if (state === 'disabled') return disabled(appId);
      return staged || status.quarantine?.reason === 'TooManyDeletes' ? null : nothingStaged(appId, 'reject');
    case 'quarantine':
      return state === 'disabled' ? disabled(appId) : null;
    case 'release':
      if (state === 'disabled' || status.quarantine !== null) return null;
      return {
        code: 'job_not_quarantined',
        message: `The job is not quarantined (state ${state}): there is nothing to release${state === 'paused' ? ` (to un-pause: ${path(appId, 'resume')})` : ''}`,
      };
  }
}

/** The 409 codes each action may answer with, for the OpenAPI description. */
export const ACTION_CONFLICTS: Record<ProvisioningAction, string> = {
  start: '`job_disabled`: release or restart the job instead.',
  pause: '`job_not_running`: no job; `job_disabled`: release or restart first.',
  resume:
    '`job_not_running`: no job; `job_quarantined`: the job is quarantined, not paused (release it); `job_disabled`.',
  run: '`job_not_running`: no job; `job_paused`: resume first; `job_disabled`: release or restart first.',
  restart: '`job_not_running`: no job (start it; its first cycle is initial).',
  'approve-deletions':
    '`job_not_running`; `no_pending_deletions`: nothing is staged; `job_paused`: resume first; `job_disabled`.',
  'reject-deletions': '`job_not_running`; `no_pending_deletions`: nothing is staged; `job_disabled`.',
  quarantine: '`job_not_running`: no job; `job_disabled`: already beyond quarantine.',
  release: '`job_not_running`: no job; `job_not_quarantined`: neither quarantined nor disabled (nothing to release).',
};
