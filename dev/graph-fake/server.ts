// A fake of the Microsoft Graph pieces the Entra source reads, written from Microsoft's published
// description of the protocol (no tenant is reachable from tests): the client-credentials token
// endpoint, `users/delta` and `groups/delta` with `@odata.nextLink` paging, `@odata.deltaLink`
// tokens that answer only what changed after them, `@removed`, `manager@delta`, `members@delta`,
// `$select`, and one 429 with `Retry-After` on demand. In memory, plain node:http, loopback.
import { createHash, randomBytes, randomUUID, verify, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GraphFakeOptions {
  /** 0 (default) = chosen by the OS. */
  port?: number;
  host?: string;
  tenantId?: string;
  clientId?: string;
  /** Random when omitted. */
  clientSecret?: string;
  /**
   * A PEM certificate registered on the app: the token endpoint then also accepts a client
   * assertion signed with its private key (RS256, `x5t` or `x5t#S256` naming it, aud = the token
   * endpoint, iss = sub = the client id, within nbf–exp).
   */
  certificate?: string;
  /** Objects a delta page holds (default 100; Graph's own pages are about 100–200). */
  pageSize?: number;
  /** Seconds an access token lives (default 3599, as Entra answers). */
  tokenLifetimeSeconds?: number;
}

/** A user as Graph shows it; `managerId` is the manager's object id (answered as `manager@delta`). */
export interface FakeUser {
  id: string;
  userPrincipalName: string;
  displayName?: string | null;
  givenName?: string | null;
  surname?: string | null;
  mail?: string | null;
  jobTitle?: string | null;
  department?: string | null;
  accountEnabled?: boolean;
  managerId?: string | null;
  [property: string]: unknown;
}

export interface FakeGroup {
  id: string;
  displayName: string;
  description?: string | null;
  mail?: string | null;
  [property: string]: unknown;
}

export interface GraphFakeStats {
  /** Per route and status, e.g. `GET /v1.0/users/delta 200`, `POST /token 401`. */
  byRoute: Record<string, number>;
  tokensIssued: number;
  /** Delta rounds begun: `initial` without a token (everything), `fromDeltaLink` with one (changes only). */
  rounds: { initial: number; fromDeltaLink: number };
}

export interface GraphFake {
  /** Token endpoint base: `<authority>/<tenantId>/oauth2/v2.0/token`. */
  authority: string;
  /** Graph base: `<graphUrl>/v1.0/users/delta`. */
  graphUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  addUser(user: Omit<FakeUser, 'id'> & { id?: string }): string;
  updateUser(id: string, changes: Partial<Omit<FakeUser, 'id'>>): void;
  /** Deletes the user (answered as `@removed`) and takes it out of every group. */
  removeUser(id: string): void;
  addGroup(group: Omit<FakeGroup, 'id'> & { id?: string }, members?: string[]): string;
  updateGroup(id: string, changes: Partial<Omit<FakeGroup, 'id'>>): void;
  removeGroup(id: string): void;
  addMember(groupId: string, memberId: string): void;
  removeMember(groupId: string, memberId: string): void;
  /** The next Graph request (not token) answers 429 with `Retry-After: <seconds>`. */
  throttleNext(retryAfterSeconds: number): void;
  stats(): GraphFakeStats;
  close(): Promise<void>;
}

type Kind = 'users' | 'groups';

interface Entry<T> {
  value: T;
  changed: number;
  removed: number | null;
  /** A user's manager taken away: answered as a `manager@delta` removal until the user changes again. */
  formerManager?: string;
}

interface MemberEvent {
  seq: number;
  groupId: string;
  memberId: string;
  removed: boolean;
}

const DEFAULT_SELECT: Record<Kind, string[]> = {
  users: ['displayName', 'givenName', 'surname', 'userPrincipalName', 'mail', 'jobTitle', 'accountEnabled'],
  groups: ['displayName', 'description', 'mail'],
};

class GraphHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`graph fake ${status}`);
  }
}

const graphError = (status: number, code: string, message: string) =>
  new GraphHttpError(status, { error: { code, message } });

/** What a round (an initial request or a deltaLink) answers: the items, fixed when the round starts. */
interface Round {
  items: Record<string, unknown>[];
  /** The change sequence the round's deltaLink continues from. */
  upTo: number;
  select: string[];
}

class Directory {
  seq = 0;
  readonly users = new Map<string, Entry<FakeUser>>();
  readonly groups = new Map<string, Entry<FakeGroup>>();
  readonly members = new Map<string, Set<string>>();
  readonly memberEvents: MemberEvent[] = [];

  tick(): number {
    return ++this.seq;
  }

  live<T>(map: Map<string, Entry<T>>, id: string): Entry<T> {
    const entry = map.get(id);
    if (!entry || entry.removed !== null) throw new Error(`graph fake: no object ${id}`);
    return entry;
  }

  member(groupId: string, memberId: string, removed: boolean): void {
    this.live(this.groups, groupId);
    const set = this.members.get(groupId)!;
    if (set.has(memberId) !== removed) return;
    if (removed) set.delete(memberId);
    else set.add(memberId);
    this.memberEvents.push({ seq: this.tick(), groupId, memberId, removed });
  }

  odataType(id: string): string {
    return this.groups.has(id) ? '#microsoft.graph.group' : '#microsoft.graph.user';
  }

  /** The objects of a round: everything live (since null) or what changed after `since`. */
  snapshot(kind: Kind, since: number | null, select: string[]): Record<string, unknown>[] {
    const map: Map<string, Entry<FakeUser | FakeGroup>> = kind === 'users' ? this.users : this.groups;
    const out: Record<string, unknown>[] = [];
    const memberChanges = kind === 'groups' ? this.memberChangesSince(since) : new Map();
    for (const [id, entry] of map) {
      if (entry.removed !== null) {
        if (since !== null && entry.removed > since) out.push({ id, '@removed': { reason: 'changed' } });
        continue;
      }
      const changed = since === null || entry.changed > since || memberChanges.has(id);
      if (!changed) continue;
      out.push(
        kind === 'users'
          ? this.userView(entry as Entry<FakeUser>, select, since)
          : this.groupView(id, entry as Entry<FakeGroup>, select, memberChanges),
      );
    }
    return out;
  }

  private pick(value: Record<string, unknown>, select: string[]): Record<string, unknown> {
    const out: Record<string, unknown> = { id: value.id };
    for (const name of select)
      if (name !== 'manager' && name !== 'members' && value[name] !== undefined) out[name] = value[name];
    return out;
  }

  private userView(entry: Entry<FakeUser>, select: string[], since: number | null): Record<string, unknown> {
    const user = entry.value;
    const out = this.pick(user, select);
    if (!select.includes('manager')) return out;
    if (user.managerId) out['manager@delta'] = [{ '@odata.type': '#microsoft.graph.user', id: user.managerId }];
    else if (since !== null && entry.formerManager)
      out['manager@delta'] = [{ id: entry.formerManager, '@removed': { reason: 'deleted' } }];
    return out;
  }

  private groupView(
    id: string,
    entry: Entry<FakeGroup>,
    select: string[],
    memberChanges: Map<string, MemberEvent[]>,
  ): Record<string, unknown> {
    const out = this.pick(entry.value, select);
    if (!select.includes('members')) return out;
    const events = memberChanges.get(id);
    out['members@delta'] = events
      ? events.map((e) =>
          e.removed
            ? { '@odata.type': this.odataType(e.memberId), id: e.memberId, '@removed': { reason: 'deleted' } }
            : { '@odata.type': this.odataType(e.memberId), id: e.memberId },
        )
      : [...this.members.get(id)!].map((m) => ({ '@odata.type': this.odataType(m), id: m }));
    return out;
  }

  /** Per group, the last add or removal of each member after `since` (null: none; a full round lists members). */
  private memberChangesSince(since: number | null): Map<string, MemberEvent[]> {
    const out = new Map<string, MemberEvent[]>();
    if (since === null) return out;
    const last = new Map<string, MemberEvent>();
    for (const e of this.memberEvents) if (e.seq > since) last.set(`${e.groupId} ${e.memberId}`, e);
    for (const e of last.values()) out.set(e.groupId, [...(out.get(e.groupId) ?? []), e]);
    return out;
  }
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = <T>(text: string): T | null => {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as T;
  } catch {
    return null;
  }
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startGraphFake(options: GraphFakeOptions = {}): Promise<GraphFake> {
  const tenantId = options.tenantId ?? randomUUID();
  const clientId = options.clientId ?? randomUUID();
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const pageSize = options.pageSize ?? 100;
  const lifetime = options.tokenLifetimeSeconds ?? 3599;
  const dir = new Directory();
  const tokens = new Map<string, number>();
  const rounds = new Map<string, Round>();
  const stats: GraphFakeStats = { byRoute: {}, tokensIssued: 0, rounds: { initial: 0, fromDeltaLink: 0 } };
  let throttle: number | null = null;
  let base = '';

  async function token(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const form = new URLSearchParams(await readBody(req));
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== `/${tenantId}/oauth2/v2.0/token`)
      return { status: 400, body: { error: 'invalid_request', error_description: 'AADSTS90002: Tenant not found.' } };
    if (form.get('grant_type') !== 'client_credentials' || form.get('scope') !== `${graphScope()}`)
      return {
        status: 400,
        body: { error: 'invalid_request', error_description: 'grant_type or scope not accepted.' },
      };
    if (form.get('client_id') !== clientId)
      return {
        status: 400,
        body: { error: 'unauthorized_client', error_description: 'AADSTS700016: Application not found.' },
      };
    if (form.has('client_assertion') || form.has('client_assertion_type')) {
      const refused = assertionProblem(form, path);
      if (refused) return { status: 401, body: { error: 'invalid_client', error_description: refused } };
    } else if (form.get('client_secret') !== clientSecret)
      return {
        status: 401,
        body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' },
      };
    const accessToken = randomBytes(32).toString('base64url');
    tokens.set(accessToken, Date.now() + lifetime * 1000);
    stats.tokensIssued++;
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
    };
  }

  /** What is wrong with the request's client assertion (an AADSTS-style description), or null when it proves the client. */
  function assertionProblem(form: URLSearchParams, path: string): string | null {
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return 'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.';
    if (!options.certificate)
      return 'AADSTS700027: Client assertion contains an invalid signature. [Reason - No certificate is registered on the application.]';
    const parts = (form.get('client_assertion') ?? '').split('.');
    const header = parts.length === 3 ? decode<Record<string, unknown>>(parts[0]) : null;
    const claims = parts.length === 3 ? decode<Record<string, unknown>>(parts[1]) : null;
    if (!header || !claims) return 'AADSTS50027: Invalid JWT token. The token is malformed.';
    const der = new X509Certificate(options.certificate).raw;
    const thumbprint = (algorithm: string) => createHash(algorithm).update(der).digest('base64url');
    if (header.alg !== 'RS256') return `Invalid JWT header: alg ${String(header.alg)} is not RS256.`;
    if (header['x5t#S256'] !== thumbprint('sha256') && header.x5t !== thumbprint('sha1'))
      return 'AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found.]';
    const signed = verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      new X509Certificate(options.certificate).publicKey,
      Buffer.from(parts[2], 'base64url'),
    );
    if (!signed)
      return 'AADSTS700027: Client assertion contains an invalid signature. [Reason - The signature does not verify.]';
    if (claims.aud !== `${base}${path}`)
      return `Client assertion audience ${String(claims.aud)} is not this token endpoint.`;
    if (claims.iss !== clientId || claims.sub !== clientId)
      return 'Client assertion iss and sub must both be the client id.';
    if (typeof claims.jti !== 'string' || claims.jti === '') return 'Client assertion has no jti.';
    const now = Date.now() / 1000;
    if (
      typeof claims.exp !== 'number' ||
      claims.exp <= now ||
      (typeof claims.nbf === 'number' && claims.nbf > now + 60)
    )
      return 'AADSTS700024: Client assertion is not within its valid time range.';
    return null;
  }

  // The fake answers for the scope of its own Graph base, as Entra does for https://graph.microsoft.com/.default.
  const graphScope = () => `${base}/.default`;

  function authorize(req: IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const expires = tokens.get(header.replace(/^Bearer /, ''));
    if (!header.startsWith('Bearer ') || expires === undefined || expires < Date.now())
      throw graphError(401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.');
  }

  function delta(kind: Kind, url: URL): unknown {
    const skip = url.searchParams.get('$skiptoken');
    const deltaToken = url.searchParams.get('$deltatoken');
    let roundId: string;
    let offset = 0;
    if (skip) {
      const parsed = decode<{ round: string; offset: number }>(skip);
      if (!parsed || !rounds.has(parsed.round)) throw graphError(400, 'BadRequest', 'Invalid skip token.');
      roundId = parsed.round;
      offset = parsed.offset;
    } else {
      const state = deltaToken ? decode<{ kind: Kind; seq: number; select: string[] }>(deltaToken) : null;
      if (deltaToken && (!state || state.kind !== kind)) throw graphError(410, 'SyncStateNotFound', 'Resync required.');
      const select = state?.select ?? selectOf(kind, url);
      roundId = randomUUID();
      stats.rounds[state ? 'fromDeltaLink' : 'initial']++;
      rounds.set(roundId, { items: dir.snapshot(kind, state?.seq ?? null, select), upTo: dir.seq, select });
    }
    const round = rounds.get(roundId)!;
    const items = round.items.slice(offset, offset + pageSize);
    const path = `${base}/v1.0/${kind}/delta`;
    const last = offset + pageSize >= round.items.length;
    if (last) rounds.delete(roundId);
    return {
      '@odata.context': `${base}/v1.0/$metadata#${kind}`,
      value: items,
      ...(last
        ? { '@odata.deltaLink': `${path}?$deltatoken=${encode({ kind, seq: round.upTo, select: round.select })}` }
        : { '@odata.nextLink': `${path}?$skiptoken=${encode({ round: roundId, offset: offset + pageSize })}` }),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<string> {
    const url = new URL(req.url ?? '/', base);
    if (req.method === 'POST' && url.pathname.endsWith('/oauth2/v2.0/token')) {
      const answer = await token(req);
      send(res, answer.status, answer.body);
      return `POST /token ${answer.status}`;
    }
    const route = `${req.method} ${url.pathname}`;
    if (throttle !== null) {
      const seconds = throttle;
      throttle = null;
      throw new GraphHttpError(
        429,
        { error: { code: 'TooManyRequests', message: 'Too many requests.' } },
        {
          'Retry-After': String(seconds),
        },
      );
    }
    authorize(req);
    const kind = req.method === 'GET' ? /^\/v1\.0\/(users|groups)\/delta$/.exec(url.pathname)?.[1] : undefined;
    if (!kind) throw graphError(404, 'Request_ResourceNotFound', `No route ${route}.`);
    send(res, 200, delta(kind as Kind, url));
    return `${route} 200`;
  }

  const server = createServer((req, res) => {
    const route = `${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`;
    handle(req, res)
      .then((key) => count(key))
      .catch((error: unknown) => {
        const failure = error instanceof GraphHttpError ? error : graphError(500, 'InternalServerError', String(error));
        send(res, failure.status, failure.body, failure.headers);
        count(`${route} ${failure.status}`);
      });
  });
  const count = (key: string) => (stats.byRoute[key] = (stats.byRoute[key] ?? 0) + 1);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  base = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    authority: base,
    graphUrl: base,
    tenantId,
    clientId,
    clientSecret,
    addUser(user) {
      const id = user.id ?? randomUUID();
      dir.users.set(id, {
        value: { accountEnabled: true, ...user, id } as FakeUser,
        changed: dir.tick(),
        removed: null,
      });
      return id;
    },
    updateUser(id, changes) {
      const entry = dir.live(dir.users, id);
      const before = entry.value.managerId;
      entry.formerManager = before && 'managerId' in changes && !changes.managerId ? before : undefined;
      entry.value = { ...entry.value, ...changes, id };
      entry.changed = dir.tick();
    },
    removeUser(id) {
      for (const [groupId, set] of dir.members) if (set.has(id)) dir.member(groupId, id, true);
      dir.live(dir.users, id).removed = dir.tick();
    },
    addGroup(group, members = []) {
      const id = group.id ?? randomUUID();
      dir.groups.set(id, { value: { ...group, id } as FakeGroup, changed: dir.tick(), removed: null });
      dir.members.set(id, new Set());
      for (const m of members) dir.member(id, m, false);
      return id;
    },
    updateGroup(id, changes) {
      const entry = dir.live(dir.groups, id);
      entry.value = { ...entry.value, ...changes, id };
      entry.changed = dir.tick();
    },
    removeGroup(id) {
      dir.live(dir.groups, id).removed = dir.tick();
    },
    addMember: (groupId, memberId) => dir.member(groupId, memberId, false),
    removeMember: (groupId, memberId) => dir.member(groupId, memberId, true),
    throttleNext(seconds) {
      throttle = seconds;
    },
    stats: () => structuredClone(stats),
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

function selectOf(kind: Kind, url: URL): string[] {
  const select = url.searchParams.get('$select');
  const expand = url.searchParams.get('$expand');
  const names = select ? select.split(',').map((s) => s.trim()) : DEFAULT_SELECT[kind];
  return expand ? [...names, ...expand.split(',').map((s) => s.trim())] : names;
}
