// The capability probe against targets that deviate the ways real apps do — no PATCH, only Entra's
// pre-2018 spelling, filters or paging ignored, a DELETE that fails, a connection lost halfway —
// scripted on a small in-memory SCIM target. The probe says what the target does, suggests the
// profile that works there, and always tries to delete its throwaway user.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { probeCapabilities, type CapabilityReport } from '../../scim/capability-probe.ts';
import { createScimClient } from '../../scim/index.ts';
import { sendJson, startScimStub, type StubRequest } from '../support/scim-stub.ts';
import type { ServerResponse } from 'node:http';

interface Behaviour {
  /** `standard`: RFC 7644 PATCH; `legacy`: only "Replace"/"Add" and "True"/"False"; `refuse`: 405. */
  patch: 'standard' | 'legacy' | 'refuse';
  /** Answer every user to any filter / ignore startIndex and count. */
  ignoresFilter?: boolean;
  ignoresPaging?: boolean;
  /** Status DELETE answers (the user stays). */
  deleteStatus?: number;
  /** Close the connection on PATCH instead of answering. */
  dropPatch?: boolean;
  /** Keep `active` as "True"/"False". */
  stringActive?: boolean;
  /** Advertise `patch.supported` (default true). */
  advertisePatch?: boolean;
}

type User = Record<string, unknown> & { id: string };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const list = (resources: User[], total = resources.length) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
  totalResults: total,
  startIndex: 1,
  itemsPerPage: resources.length,
  Resources: resources,
});

function handler(b: Behaviour, users: Map<string, User>) {
  const store = (user: User): User =>
    b.stringActive && typeof user.active === 'boolean' ? { ...user, active: user.active ? 'True' : 'False' } : user;
  return (req: StubRequest, res: ServerResponse) => {
    const url = new URL(req.url, 'http://stub');
    const path = url.pathname.replace(/^\/scim/, '');
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    if (path === '/ServiceProviderConfig') {
      return sendJson(res, 200, {
        patch: { supported: b.advertisePatch ?? true },
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
        filter: { supported: true, maxResults: 50 },
        etag: { supported: true },
        sort: { supported: false },
      });
    }
    if (path === '/Users' && req.method === 'GET') {
      let all = [...users.values()];
      const filter = url.searchParams.get('filter');
      const eq = filter && /^userName eq "(.*)"$/.exec(filter);
      if (eq && !b.ignoresFilter) all = all.filter((u) => u.userName === eq[1]);
      if (b.ignoresPaging) return sendJson(res, 200, list(all));
      const start = Number(url.searchParams.get('startIndex') ?? 1);
      const count = Number(url.searchParams.get('count') ?? 100);
      return sendJson(res, 200, list(all.slice(start - 1, start - 1 + count), all.length));
    }
    if (path === '/Users' && req.method === 'POST') {
      const user = store({ ...body, id: randomUUID() } as User);
      users.set(user.id, user);
      return sendJson(res, 201, user);
    }
    const id = decodeURIComponent(path.replace(/^\/Users\//, ''));
    const user = users.get(id);
    if (!user) return sendJson(res, 404, { status: '404' });
    if (req.method === 'GET') return sendJson(res, 200, user);
    if (req.method === 'DELETE') {
      if (b.deleteStatus) return sendJson(res, b.deleteStatus, { status: String(b.deleteStatus) });
      users.delete(id);
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'PUT') {
      users.set(id, store({ ...body, id } as User));
      return sendJson(res, 200, users.get(id));
    }
    if (req.method === 'PATCH') {
      if (b.dropPatch) {
        res.destroy();
        return;
      }
      if (b.patch === 'refuse') return sendJson(res, 405, { status: '405' });
      const next = { ...user };
      for (const op of body.Operations as { op: string; path: string; value: unknown }[]) {
        const legacyOp = op.op === 'Replace';
        if (b.patch === 'legacy' ? !legacyOp : op.op.toLowerCase() !== 'replace')
          return sendJson(res, 400, { status: '400', scimType: 'invalidSyntax' });
        if (op.path === 'active') {
          const legacyValue = op.value === 'True' || op.value === 'False';
          if (b.patch === 'legacy' ? !legacyValue : typeof op.value !== 'boolean')
            return sendJson(res, 400, { status: '400', scimType: 'invalidValue' });
          next.active = b.stringActive ? op.value : op.value === true || op.value === 'True';
        } else if (op.path === 'displayName') {
          next.displayName = op.value;
        } else {
          return sendJson(res, 400, { status: '400', scimType: 'invalidPath' });
        }
      }
      users.set(id, next);
      return sendJson(res, 200, next);
    }
    return sendJson(res, 405, {});
  };
}

/** A target with ada and grace, probed with writes (or not); the report and the users left. */
async function probeTarget(b: Behaviour, writes = true): Promise<{ report: CapabilityReport; users: User[] }> {
  const users = new Map<string, User>();
  for (const name of ['ada', 'grace']) {
    const id = randomUUID();
    users.set(id, { id, userName: `${name}@contoso.com`, active: b.stringActive ? 'True' : true });
  }
  const stub = await startScimStub(handler(b, users));
  const client = createScimClient({
    baseUrl: `${stub.origin}/scim`,
    auth: { type: 'bearer', token: 'tok_probe_stub' },
    allowInsecureLoopback: true,
    retry: { attempts: 1 },
  });
  cleanups.push(
    () => stub.close(),
    () => client.close(),
  );
  const report = await probeCapabilities(client, { ok: true }, { matching: ['userName'], writes });
  return { report, users: [...users.values()] };
}

const outcomes = (report: CapabilityReport) => Object.fromEntries(report.checks.map((c) => [c.id, c.outcome]));
const userNames = (users: User[]) => users.map((u) => u.userName).sort();

describe('capability probe: deviating targets', () => {
  it('a target refusing PATCH (405) although it advertises PATCH: put-only from what was tested', async () => {
    const { report, users } = await probeTarget({ patch: 'refuse' });
    expect(report.advertised?.patch).toBe(true);
    expect(outcomes(report)).toMatchObject({
      patch: 'unsupported',
      patchCapitalisedOp: 'unsupported',
      put: 'supported',
    });
    expect(report.suggestion).toMatchObject({ profile: 'put-only', basis: 'tested' });
    expect(userNames(users)).toEqual(['ada@contoso.com', 'grace@contoso.com']);
  });

  it('a target advertising no PATCH, probed without writes: put-only from what it says', async () => {
    const { report } = await probeTarget({ patch: 'refuse', advertisePatch: false }, false);
    expect(report.checks.map((c) => c.id)).toEqual(['filter:userName', 'paging', 'activeBoolean']);
    expect(report.suggestion).toMatchObject({ profile: 'put-only', basis: 'advertised' });
  });

  it("a target taking only Entra's pre-2018 PATCH, with active as a string: entra-2017", async () => {
    const { report, users } = await probeTarget({ patch: 'legacy', stringActive: true });
    expect(outcomes(report)).toMatchObject({
      activeBoolean: 'unsupported',
      patch: 'unsupported',
      patchValuePath: 'unsupported',
      patchCapitalisedOp: 'supported',
      patchStringBoolean: 'supported',
    });
    expect(report.suggestion).toMatchObject({ profile: 'entra-2017', basis: 'tested' });
    expect(userNames(users)).toEqual(['ada@contoso.com', 'grace@contoso.com']);
  });

  it('a target taking PATCH but no value paths (invalidPath): put-only, which applies them locally', async () => {
    const { report } = await probeTarget({ patch: 'standard' });
    expect(outcomes(report)).toMatchObject({ patch: 'supported', patchValuePath: 'unsupported', put: 'supported' });
    expect(report.suggestion).toMatchObject({ profile: 'put-only', basis: 'tested' });
  });

  it('a target ignoring filters and paging is reported so, without writes', async () => {
    const { report } = await probeTarget({ patch: 'standard', ignoresFilter: true, ignoresPaging: true }, false);
    expect(outcomes(report)).toEqual({
      'filter:userName': 'unsupported',
      paging: 'unsupported',
      activeBoolean: 'supported',
    });
    expect(report.checks.find((c) => c.id === 'paging')?.detail).toBe('The target ignores count (asked 1)');
  });

  it('a DELETE the target refuses is reported with the user to delete by hand', async () => {
    const { report, users } = await probeTarget({ patch: 'standard', deleteStatus: 403 });
    const left = users.find((u) => String(u.userName).startsWith('ferry-probe-'));
    expect(left).toBeDefined();
    expect(report.cleanup).toEqual({
      userName: left?.userName,
      deleted: false,
      detail: `DELETE was answered 403: delete ${String(left?.userName)} by hand`,
    });
    expect(outcomes(report).delete).toBe('unsupported');
  });

  it('a connection lost halfway stops the probe with the reason, and the throwaway user is still deleted', async () => {
    const { report, users } = await probeTarget({ patch: 'standard', dropPatch: true });
    expect(report.error).toMatch(/^The probe stopped: /);
    expect(report.suggestion).toBeNull();
    // What was learnt before stays, and the cleanup is reported.
    expect(outcomes(report)).toMatchObject({
      create: 'supported',
      'filter:userName': 'supported',
      delete: 'supported',
    });
    expect(report.cleanup).toMatchObject({ deleted: true });
    expect(userNames(users)).toEqual(['ada@contoso.com', 'grace@contoso.com']);
  });
});
