// Builds the real app with a recording ProvisioningControl (no Temporal server in API tests).
import { createApp, type ApiDeps } from '../../api/app.ts';
import { createLogger } from '../../api/logger.ts';
import type { JobStatus, ProvisioningControl } from '../../api/provisioning-control.ts';

export const API_KEY = 'k_test_2f6c1e0b9d8a4c7e';
export const OTHER_KEY = 'k_second_81d3e5';

export interface RecordedCall {
  method: keyof ProvisioningControl;
  args: unknown[];
}

export function recordingProvisioning(status: JobStatus | null = null) {
  const calls: RecordedCall[] = [];
  const record =
    (method: keyof ProvisioningControl) =>
    async (...args: unknown[]) => {
      calls.push({ method, args });
    };
  const control: ProvisioningControl = {
    start: record('start'),
    ensure: record('ensure'),
    pause: record('pause'),
    resume: record('resume'),
    runNow: record('runNow'),
    restart: record('restart'),
    configChanged: record('configChanged'),
    quarantine: record('quarantine'),
    release: record('release'),
    approveDeletions: record('approveDeletions'),
    rejectDeletions: record('rejectDeletions'),
    stop: record('stop'),
    async provisionOnDemand() {
      throw new Error('not used');
    },
    async startOnDemand() {
      throw new Error('not used');
    },
    async onDemandOutcome() {
      throw new Error('not used');
    },
    async status(appId) {
      calls.push({ method: 'status', args: [appId] });
      return status;
    },
  };
  return { control, calls };
}

/** A running job's status in `state` (no cycle running, nothing staged, not quarantined unless given). */
export function jobStatus(state: JobStatus['state'], extra: Partial<JobStatus> = {}): JobStatus {
  return {
    appId: 'a1',
    appName: 'App',
    state,
    cycle: null,
    lastCycle: null,
    nextCycleAt: null,
    backoffLevel: 0,
    quarantine: null,
    pendingDeletions: 0,
    ...extra,
  };
}

/** The app over a recording job control whose status query answers `status` (null: no job running). */
export function testApp(overrides: Partial<ApiDeps> = {}, status: JobStatus | null = null) {
  const lines: string[] = [];
  const { control, calls } = recordingProvisioning(status);
  const app = createApp({
    apiKeys: [API_KEY, OTHER_KEY],
    provisioning: control,
    logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
    ...overrides,
  });
  return { app, calls, lines };
}

export const auth = (key = API_KEY) => ({ Authorization: `Bearer ${key}` });

/** Bindings the way @hono/node-server passes them, so the app sees a client address. */
export const fromAddress = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });

/** A response's JSON body. Tests check it field by field; `any` keeps those checks readable. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const read = async (res: Response): Promise<any> => res.json();
