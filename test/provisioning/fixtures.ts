import { sql } from 'drizzle-orm';
// A directory and an app for the provisioning tests: 200 users with managers, 20 groups (nested,
// one nesting cycle), all groups assigned to a generic SCIM app pointing at a third-party peer.
import { genericScimTemplate } from '../../gallery/index.ts';
import type { AppConfigInput } from '../../engine/config/index.ts';
import { SCIM_ENTERPRISE_USER_SCHEMA, type ScimResource } from '../../engine/types.ts';
import type { Store } from '../../store/index.ts';

export const pad = (n: number, width = 3) => String(n).padStart(width, '0');
export const userId = (i: number) => `u${pad(i)}`;
export const groupId = (k: number) => `g${pad(k, 2)}`;
export const upn = (i: number) => `user${pad(i)}@contoso.com`;

export interface DirectoryShape {
  users: number;
  groups: number;
}

/** Manager of user i (1-based): a user elsewhere in the list, so some managers come later than their reports. */
export function managerOf(i: number, users: number): number | null {
  if (i % 10 === 1) return null;
  const m = ((i * 7) % users) + 1;
  return m === i ? null : m;
}

/** Users of group k (direct): a slice of the users. */
export function directUsersOf(k: number, shape: DirectoryShape): number[] {
  const per = Math.floor(shape.users / shape.groups);
  return Array.from({ length: per }, (_, j) => (k - 1) * per + j + 1);
}

/** Nesting: every even group contains the odd one before it; the last two contain each other. */
export function nestedGroupsOf(k: number, shape: DirectoryShape): number[] {
  const nested: number[] = [];
  if (k % 2 === 0) nested.push(k - 1);
  if (k === shape.groups - 1) nested.push(shape.groups);
  return nested;
}

/** Flattened users of group k (nested groups followed, cycles tolerated). */
export function flattenedUsersOf(k: number, shape: DirectoryShape): Set<number> {
  const users = new Set<number>();
  const seen = new Set<number>();
  const queue = [k];
  while (queue.length) {
    const g = queue.pop() as number;
    if (seen.has(g)) continue;
    seen.add(g);
    for (const u of directUsersOf(g, shape)) users.add(u);
    for (const n of nestedGroupsOf(g, shape)) queue.push(n);
  }
  return users;
}

export function userInput(i: number, shape: DirectoryShape) {
  const manager = managerOf(i, shape.users);
  return {
    id: userId(i),
    userPrincipalName: upn(i),
    mail: upn(i),
    mailNickname: `user${pad(i)}`,
    displayName: `User ${pad(i)}`,
    givenName: `Given${pad(i)}`,
    surname: `Surname${pad(i)}`,
    department: i % 2 === 0 ? 'Sales' : 'Engineering',
    jobTitle: 'Engineer',
    city: 'Oslo',
    country: 'NO',
    managerId: manager === null ? null : userId(manager),
  };
}

export async function seedDirectory(store: Store, shape: DirectoryShape = { users: 200, groups: 20 }): Promise<void> {
  await store.directory.bulkUpsertUsers(Array.from({ length: shape.users }, (_, n) => userInput(n + 1, shape)));
  await store.directory.bulkUpsertGroups(
    Array.from({ length: shape.groups }, (_, n) => ({
      id: groupId(n + 1),
      displayName: `Group ${pad(n + 1, 2)}`,
      mailNickname: `group${n + 1}`,
    })),
  );
  const memberships = [];
  for (let k = 1; k <= shape.groups; k++) {
    for (const u of directUsersOf(k, shape))
      memberships.push({ groupId: groupId(k), memberId: userId(u), memberType: 'user' as const });
    for (const n of nestedGroupsOf(k, shape))
      memberships.push({ groupId: groupId(k), memberId: groupId(n), memberType: 'group' as const });
  }
  // With an even number of groups the last two contain each other. The store refuses such a cycle
  // now, but directories written before it did may hold one, and cycles must still flatten: the
  // refused memberships are written past the check, with their change, as older data would be.
  const { refused } = await store.directory.importMembers(memberships);
  for (const { index } of refused) {
    const m = memberships[index];
    await store.db.execute(sql`
      with added as (
        insert into directory_memberships (group_id, member_id, member_type)
        values (${m.groupId}, ${m.memberId}, ${m.memberType}) returning group_id
      )
      insert into directory_changes (object_type, object_id, op, detail)
      select 'group', group_id, 'memberAdd', ${JSON.stringify({ memberId: m.memberId, memberType: m.memberType })}::jsonb
      from added`);
  }
}

export function appConfig(baseUrl: string, overrides: Partial<AppConfigInput> = {}): AppConfigInput {
  const template = genericScimTemplate;
  return {
    templateId: template.id,
    name: 'Test app',
    target: { url: baseUrl },
    auth: { type: 'bearer', token: 'in-secrets' },
    scope: 'assigned',
    objectTypes: {
      user: { mappings: template.objectTypes.user.mappings },
      group: { mappings: template.objectTypes.group?.mappings ?? [] },
    },
    notificationEmail: 'admin@contoso.com',
    rateLimit: { requestsPerSecond: 2000, concurrency: 8 },
    ...overrides,
  };
}

/** Creates the app (token as an encrypted secret) and assigns every group to it. */
export async function createApp(
  store: Store,
  peer: { baseUrl: string; token: string },
  options: { id?: string; shape?: DirectoryShape; overrides?: Partial<AppConfigInput>; assignGroups?: boolean } = {},
): Promise<string> {
  const { auth: _auth, ...configuration } = appConfig(peer.baseUrl, options.overrides);
  const app = await store.apps.create({
    id: options.id,
    name: 'Test app',
    template: 'generic-scim',
    configuration: { ...configuration, auth: { type: 'bearer' } },
    secrets: { token: peer.token },
    provisioningEnabled: true,
  });
  if (options.assignGroups !== false) {
    const shape = options.shape ?? { users: 200, groups: 20 };
    for (let k = 1; k <= shape.groups; k++) await store.assignments.assign(app.id, groupId(k), 'User');
  }
  return app.id;
}

/** The target as plain facts: users by userName, groups by displayName with member userNames. */
export function targetState(users: ScimResource[], groups: ScimResource[]) {
  const byId = new Map(users.map((u) => [u.id as string, u]));
  const userFacts = new Map(
    users.map((u) => {
      const enterprise = u[SCIM_ENTERPRISE_USER_SCHEMA] as { manager?: { value?: string } } | undefined;
      const managerId = enterprise?.manager?.value;
      return [
        String(u.userName).toLowerCase(),
        {
          id: u.id as string,
          active: u.active !== false,
          displayName: u.displayName as string | undefined,
          manager: managerId ? String(byId.get(managerId)?.userName ?? `?${managerId}`).toLowerCase() : null,
        },
      ];
    }),
  );
  const groupFacts = new Map(
    groups.map((g) => [
      String(g.displayName),
      new Set(
        ((g.members as { value: string }[] | undefined) ?? []).map((m) =>
          String(byId.get(m.value)?.userName ?? `?${m.value}`).toLowerCase(),
        ),
      ),
    ]),
  );
  return { users: userFacts, groups: groupFacts };
}

/** What the target must hold after provisioning the whole directory. */
export function expectedState(shape: DirectoryShape = { users: 200, groups: 20 }) {
  const users = new Map<string, { active: boolean; displayName: string; manager: string | null }>();
  for (let i = 1; i <= shape.users; i++) {
    const m = managerOf(i, shape.users);
    users.set(upn(i), { active: true, displayName: `User ${pad(i)}`, manager: m === null ? null : upn(m) });
  }
  const groups = new Map<string, Set<string>>();
  for (let k = 1; k <= shape.groups; k++) {
    groups.set(`Group ${pad(k, 2)}`, new Set([...flattenedUsersOf(k, shape)].map(upn)));
  }
  return { users, groups };
}
