// Journey: every operator action in every job state. Each cell gets its own app (and users) on one
// `npm start`, is brought into its state over HTTP, and then the action is sent. The rule a user
// relies on: an action is either carried out — and the test sees its effect — or refused with 409
// and an error code saying why. Nothing is accepted and then silently dropped.
//
// States: notStarted (the app exists, provisioning was never started: no job), initial (the first
// cycle is in flight, held at the target), steady (idle between cycles), midCycle (an incremental
// cycle in flight, held at the target), paused, quarantined (by hand), deletionsStaged (quarantined
// with TooManyDeletes, deletions waiting for approval). `disabled` (four weeks in quarantine) cannot
// be reached over HTTP in a test's lifetime; the engine's policy tests cover it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/net.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import {
  createApp,
  OneProcessFerry,
  person,
  startProvisioning,
  tempDir,
  type ApiAnswer,
  type FerryApi,
  type Json,
} from './harness.ts';
import { Gate, startHookProxy, usersByName, type HookProxy } from './targets.ts';

const STATES = ['notStarted', 'initial', 'steady', 'midCycle', 'paused', 'quarantined', 'deletionsStaged'] as const;
type State = (typeof STATES)[number];
const ACTIONS = [
  'pause',
  'resume',
  'run',
  'restart (watermark)',
  'restart (full)',
  'release',
  'quarantine',
  'approve-deletions',
  'reject-deletions',
  'on-demand',
] as const;
type Action = (typeof ACTIONS)[number];

/**
 * The documented table (docs/operations.md, "Actions in every state"): `acts` (2xx, and the effect
 * is seen) or the code of the 409 that refuses it. midCycle is steady with a cycle in flight.
 */
const ACTS = 'acts';
const all = (answer: string, except: Partial<Record<State, string>> = {}): Record<State, string> => ({
  ...(Object.fromEntries(STATES.map((state) => [state, answer])) as Record<State, string>),
  notStarted: 'job_not_running',
  ...except,
});
const EXPECTED: Record<Action, Record<State, string>> = {
  pause: all(ACTS),
  resume: all(ACTS, { quarantined: 'job_quarantined', deletionsStaged: 'job_quarantined' }),
  run: all(ACTS, { paused: 'job_paused' }),
  'restart (watermark)': all(ACTS),
  'restart (full)': all(ACTS),
  release: all('job_not_quarantined', { quarantined: ACTS, deletionsStaged: ACTS }),
  quarantine: all(ACTS),
  'approve-deletions': all('no_pending_deletions', { deletionsStaged: ACTS }),
  'reject-deletions': all('no_pending_deletions', { deletionsStaged: ACTS }),
  'on-demand': all(ACTS),
};

const data = tempDir('actions');
let peer: ScimPeer;
let ferry: OneProcessFerry;
let api: FerryApi;
const proxies: HookProxy[] = [];
const gates: Gate[] = [];
let cellCount = 0;

beforeAll(async () => {
  peer = await startScimmyPeer();
  ferry = await OneProcessFerry.create({ dataDir: data.dir });
  api = ferry.api;
  await ferry.start();
});
afterAll(async () => {
  for (const gate of gates) gate.open();
  await ferry?.stop('SIGKILL');
  for (const proxy of proxies) await proxy.close();
  await peer?.close();
  data.cleanup();
});

interface Cell {
  state: State;
  appId: string;
  gate: Gate;
  domain: string;
  /** Directory ids of the cell's users; the first one is changed to see effects. */
  users: string[];
}

const titleAt = async (cell: Cell, userId: string) =>
  (await usersByName(peer)).get(`${userId}@${cell.domain}`)?.title as string | undefined;

/** Brings a fresh app into `state`. For initial/midCycle, the returned cell's cycle is held at the gate. */
async function cellIn(state: State): Promise<Cell> {
  const n = ++cellCount;
  const domain = `cell${n}.example`;
  const users = ['a', 'b', 'c'].map((u) => `c${n}${u}`);
  const gate = new Gate();
  gates.push(gate);
  const proxy = await startHookProxy(peer.baseUrl, gate.pass);
  proxies.push(proxy);
  await api.ok('POST', '/directory/import', { users: users.map((id) => person(id, domain)) });
  const appId = await createApp(
    api,
    { url: proxy.baseUrl, token: peer.token },
    // Push is off: each cell's state comes from exactly the cycles this journey starts (a push cycle
    // racing the run that stages deletions would change which cycle holds them; push has its own journey).
    {
      name: `${state} cell ${n}`,
      settings: { scope: 'assigned', deletionThreshold: { count: 1 }, pushChanges: false },
    },
  );
  for (const id of users) await api.ok('POST', `/apps/${appId}/assignments`, { principalId: id });
  const cell: Cell = { state, appId, gate, domain, users };
  if (state === 'notStarted') return cell;
  if (state === 'initial') {
    gate.close();
    await api.ok('POST', `/apps/${appId}/provisioning/start`, undefined, [202]);
    await until(() => gate.held > 0, 'the initial cycle to reach the target', { timeoutMs: 120_000, pollMs: 50 });
    expect((await api.status(appId)).state).toBe('initial');
    return cell;
  }
  expect((await startProvisioning(api, appId)).status).toBe('succeeded');
  if (state === 'midCycle') {
    await api.ok('PATCH', `/directory/users/${users[1]}`, { jobTitle: 'changed before the held cycle' });
    gate.close();
    await api.ok('POST', `/apps/${appId}/provisioning/run`, undefined, [202]);
    await until(() => gate.held > 0, 'the cycle to reach the target', { timeoutMs: 120_000, pollMs: 50 });
  } else if (state === 'paused') {
    await api.ok('POST', `/apps/${appId}/provisioning/pause`, undefined, [202]);
    await api.statusWhen(appId, (s) => s.state === 'paused', 'paused');
  } else if (state === 'quarantined') {
    await api.ok('POST', `/apps/${appId}/provisioning/quarantine`, { reason: 'journey' }, [202]);
    await api.statusWhen(appId, (s) => s.state === 'quarantined', 'quarantined');
  } else if (state === 'deletionsStaged') {
    // Two unassigned users with a threshold of one: both disables are staged, the job quarantined.
    for (const id of users.slice(1)) await api.ok('DELETE', `/apps/${appId}/assignments/${id}`);
    await api.runCycle(appId);
    await api.statusWhen(
      appId,
      (s) => s.quarantine?.reason === 'TooManyDeletes' && s.pendingDeletions === 2,
      'deletions staged',
    );
  }
  return cell;
}

/** Sends the action; the first user's job title is changed just before, so effects can be seen. */
async function act(cell: Cell, action: Action): Promise<{ answer: ApiAnswer; since: number; title: string }> {
  const title = `${action} in ${cell.state}`;
  await api.ok('PATCH', `/directory/users/${cell.users[0]}`, { jobTitle: title });
  const since = Date.now();
  const base = `/apps/${cell.appId}/provisioning`;
  const answer =
    action === 'on-demand'
      ? await api.call('POST', `/apps/${cell.appId}/provision-on-demand`, { objectId: cell.users[0] })
      : action.startsWith('restart')
        ? await api.call('POST', `${base}/restart`, { reset: action.includes('full') ? 'full' : 'watermark' })
        : action === 'quarantine'
          ? await api.call('POST', `${base}/quarantine`, { reason: 'journey action' })
          : await api.call('POST', `${base}/${action}`);
  return { answer, since, title };
}

/** A cycle that started at or after `since` finished (bounded). */
const cycleAfter = (cell: Cell, since: number, what: string) => api.cycleFinishedAfter(cell.appId, since, what, 90_000);

/** The effect an accepted action must have. */
async function expectEffect(cell: Cell, action: Action, since: number, title: string): Promise<void> {
  const { appId } = cell;
  switch (action) {
    case 'pause':
      await api.statusWhen(appId, (s) => s.state === 'paused', 'paused after pause');
      return;
    case 'resume':
      await api.statusWhen(appId, (s) => s.state !== 'paused', 'running after resume');
      return;
    case 'run':
    case 'release': {
      // A cycle runs after the action, and the change made just before reaches the target.
      const cycle = await cycleAfter(cell, since, `a cycle after ${action}`);
      expect(cycle.status).toBe('succeeded');
      // (Released with deletions still staged, the next cycle may stage them again.)
      if (action === 'release' && cell.state !== 'deletionsStaged') {
        expect((await api.status(appId)).quarantine).toBeNull();
      }
      await until(async () => (await titleAt(cell, cell.users[0])) === title, `the change after ${action}`, {
        timeoutMs: 60_000,
        pollMs: 200,
      });
      return;
    }
    case 'restart (watermark)':
    case 'restart (full)': {
      // An initial cycle runs after the restart and succeeds (one it interrupted may end `stopped`).
      let seen: Json[] = [];
      await until(
        async () => {
          seen = (await api.cycles(appId)).filter((c: Json) => Date.parse(c.startedAt) >= since);
          return seen.some((c: Json) => c.kind === 'initial' && c.status === 'succeeded');
        },
        `a succeeded initial cycle after ${action}`,
        { timeoutMs: 90_000, pollMs: 250 },
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}; cycles since: ${JSON.stringify(seen.map((c: Json) => [c.number, c.kind, c.status]))}`,
        );
      });
      const status = await api.status(appId);
      if (cell.state === 'deletionsStaged') {
        // The restart cleared the quarantine; its initial cycle finds the same deletions and stages them again.
        expect(status.quarantine?.reason ?? null).toBe(status.pendingDeletions > 0 ? 'TooManyDeletes' : null);
      } else {
        await api
          .statusWhen(appId, (s) => s.state === 'steady' && s.quarantine === null, `steady after ${action}`, 30_000)
          .catch(async (error: Error) => {
            const cycles = (await api.cycles(appId)).map((c: Json) => [c.number, c.kind, c.status, c.startedAt]);
            throw new Error(`${error.message}; cycles: ${JSON.stringify(cycles)}`);
          });
      }
      expect(await titleAt(cell, cell.users[0])).toBe(title);
      // Forgetting the links re-matches the accounts: still exactly one account per user.
      const names = [...(await usersByName(peer)).keys()].filter((name) => name.endsWith(`@${cell.domain}`));
      expect(names.length).toBe(cell.users.length);
      return;
    }
    case 'quarantine':
      // A paused job shows its quarantine once resumed.
      if (cell.state === 'paused') await api.ok('POST', `/apps/${appId}/provisioning/resume`, undefined, [202]);
      await api.statusWhen(appId, (s) => s.state === 'quarantined', 'quarantined after quarantine');
      return;
    case 'approve-deletions':
    case 'reject-deletions': {
      await api.statusWhen(appId, (s) => s.pendingDeletions === 0 && s.quarantine === null, `${action} settled`);
      const byName = await usersByName(peer);
      for (const id of cell.users.slice(1)) {
        expect(byName.get(`${id}@${cell.domain}`)?.active).toBe(action === 'reject-deletions');
      }
      return;
    }
    case 'on-demand':
      expect(await titleAt(cell, cell.users[0])).toBe(title);
      return;
  }
}

/** Runs one cell; returns its row of the table, or a problem (a string starting with `✗`). */
async function runCell(action: Action, state: State): Promise<string> {
  const cell = await cellIn(state);
  const expected = EXPECTED[action][state];
  try {
    const pending = act(cell, action);
    // On-demand waits for its answer, which needs the target: let the held cycle go on first.
    if (action === 'on-demand') await new Promise((r) => setTimeout(r, 1000));
    else await pending;
    cell.gate.open();
    const { answer, since, title } = await pending;
    const row = `${action} in ${state}: ${answer.status}${answer.status === 409 ? ` ${answer.json?.error?.code}` : ''}`;
    if (answer.status === 409) {
      if (!/^[A-Za-z_]+$/.test(String(answer.json?.error?.code)) || typeof answer.json?.error?.message !== 'string') {
        return `✗ ${row}: a 409 without an error code and message`;
      }
      if (expected === ACTS) return `✗ ${row}: must act, not refuse`;
      return answer.json.error.code === expected ? row : `✗ ${row}: the documented code is ${expected}`;
    }
    if (![200, 202].includes(answer.status)) return `✗ ${row}: ${answer.text.slice(0, 300)}`;
    if (expected !== ACTS) return `✗ ${row}: must answer 409 ${expected}`;
    if (action === 'on-demand' && answer.json?.status !== 'Success') {
      return `✗ ${row}: on-demand reported ${answer.json?.status} ${answer.json?.errorCode ?? ''}`;
    }
    try {
      await expectEffect(cell, action, since, title);
    } catch (error) {
      return `✗ ${row} accepted, but: ${(error as Error).message.split('\n')[0]}`;
    }
    return row;
  } catch (error) {
    return `✗ ${action} in ${state}: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    cell.gate.open();
  }
}

describe('operator actions × job states (npm start): each acts or answers 409 with a code', () => {
  for (const action of ACTIONS) {
    it(`${action}: in every state it is carried out, or refused with 409 and a code — never accepted and dropped`, async () => {
      // One cell per state, all at once: the cells are independent apps on the same Ferry.
      const rows = await Promise.all(STATES.map((state) => runCell(action, state)));
      console.log(rows.join('\n'));
      expect(rows.filter((row) => row.startsWith('✗'))).toEqual([]);
    });
  }
});
