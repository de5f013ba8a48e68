// POST /api/v1/directory/import — many users, groups and memberships at once, as JSON or CSV.
// Nothing is lost silently: every valid row is imported, every bad row is reported with its row
// number and the field at fault. Users are matched on id, else on userPrincipalName (case-
// insensitive), so importing the same file twice changes nothing; groups on id, else displayName.
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { DirectoryGroup, DirectoryUser, Membership } from '../../engine/types.ts';
import type { GroupInput, Store, UserInput } from '../../store/index.ts';
import { csvObjects } from '../../engine/csv.ts';
import { ApiError, CsvSyntaxError, errorResponses } from '../errors.ts';
import { jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { issuePath, schemaHook, unstorablePart } from '../validation.ts';
import { newGroupSchema } from './directory-groups.ts';
import { newUserSchema, userFields } from './directory-users.ts';

export type ImportSection = 'users' | 'groups' | 'memberships';

export interface ImportRowError {
  section: ImportSection;
  /** JSON: 1-based position in its array. CSV: the line number in the file (the header is line 1). */
  row: number;
  field: string;
  message: string;
}

export interface ImportCounts {
  received: number;
  /** New objects (memberships: new links). */
  created: number;
  /** Existing objects replaced (memberships: already there). */
  updated: number;
  failed: number;
}

export interface ImportReport {
  users: ImportCounts;
  groups: ImportCounts;
  memberships: ImportCounts;
  errors: ImportRowError[];
}

const MAX_ROWS = 200_000;
/** Errors listed in full; beyond that only counted (the counts stay exact). */
const MAX_ERRORS_LISTED = 1000;

const jsonImportSchema = z
  .object({
    users: z.array(z.unknown()).max(MAX_ROWS).optional().openapi({ description: 'NewUser objects' }),
    groups: z.array(z.unknown()).max(MAX_ROWS).optional().openapi({ description: 'NewGroup objects' }),
    memberships: z.array(z.unknown()).max(MAX_ROWS).optional().openapi({
      description: '`{ groupId, memberId }`; groupId may be a group displayName, memberId a userPrincipalName',
    }),
  })
  .strict()
  .openapi('DirectoryImport');

const membershipRowSchema = z
  .object({ groupId: z.string().trim().min(1), memberId: z.string().trim().min(1) })
  .strict();

const countsSchema = z.object({
  received: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  failed: z.number().int(),
});
const reportSchema = z
  .object({
    users: countsSchema,
    groups: countsSchema,
    memberships: countsSchema,
    errors: z.array(
      z.object({
        section: z.enum(['users', 'groups', 'memberships']),
        row: z.number().int(),
        field: z.string(),
        message: z.string(),
      }),
    ),
  })
  .openapi('ImportReport');

const importQuery = z.object({
  type: z
    .enum(['users', 'groups', 'memberships'])
    .default('users')
    .openapi({ param: { name: 'type', in: 'query' }, description: 'What a CSV body holds (ignored for JSON)' }),
});

interface Row {
  row: number;
  value: unknown;
}

const emptyCounts = (received: number): ImportCounts => ({ received, created: 0, updated: 0, failed: 0 });

// ---- CSV cells to typed values ----
const USER_COLUMNS = new Set(Object.keys(userFields));
const GROUP_COLUMNS = new Set(['id', 'displayName', 'mailNickname', 'description', 'mail']);

function csvUser(cells: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const extensions: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(cells)) {
    const value = raw.trim();
    if (name === '') continue;
    if (name === 'id' || USER_COLUMNS.has(name)) {
      if (value === '') continue;
      if (name === 'accountEnabled')
        out[name] = /^(true|1|yes)$/i.test(value) ? true : /^(false|0|no)$/i.test(value) ? false : value;
      else if (name === 'businessPhones')
        out[name] = value
          .split(';')
          .map((p) => p.trim())
          .filter(Boolean);
      else out[name] = value;
    } else if (value !== '') extensions[name] = value;
  }
  if (Object.keys(extensions).length > 0) out.extensions = extensions;
  return out;
}

function csvGroup(cells: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const extensions: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(cells)) {
    const value = raw.trim();
    if (name === '' || value === '') continue;
    if (GROUP_COLUMNS.has(name)) out[name] = value;
    else extensions[name] = value;
  }
  if (Object.keys(extensions).length > 0) out.extensions = extensions;
  return out;
}

const importDirectoryRoute = createRoute({
  method: 'post',
  path: '/directory/import',
  tags: ['directory'],
  summary: 'Import users, groups and memberships (JSON or CSV)',
  description: [
    'JSON: `{ "users": [...], "groups": [...], "memberships": [{ "groupId", "memberId" }] }`, imported in that order.',
    'CSV (`Content-Type: text/csv`): one section per request, named by `?type=users|groups|memberships`; the header row names the columns (user/group attribute names; other columns become extension attributes; `businessPhones` is `;`-separated).',
    'Users match on `id`, else `userPrincipalName`; groups on `id`, else `displayName`. Matched objects are replaced, new ones created.',
    'Valid rows are imported and bad rows reported in `errors` with their row number and field; the answer is 200 even when some rows failed.',
  ].join('\n\n'),
  request: {
    query: importQuery,
    body: {
      required: true,
      content: {
        'application/json': { schema: jsonImportSchema },
        'text/csv': {
          schema: z.string().openapi({ example: 'userPrincipalName,displayName\nada@contoso.com,Ada' }),
        },
      },
    },
  },
  responses: {
    200: jsonContent(reportSchema, 'What was imported and what was not'),
    ...errorResponses(400, 401, 413, 415, 429),
  },
});

export function directoryImportRouter({ store }: { store: Store }) {
  const router = createRouter();

  router.openapi(
    importDirectoryRoute,
    async (c) => {
      const contentType = (c.req.header('content-type') ?? '').toLowerCase();
      let users: Row[] = [];
      let groups: Row[] = [];
      let memberships: Row[] = [];
      const errors: ImportRowError[] = [];
      if (contentType.startsWith('text/csv')) {
        const { type } = c.req.valid('query');
        let parsed: ReturnType<typeof csvObjects>;
        try {
          parsed = csvObjects(await c.req.text());
        } catch (error) {
          if (error instanceof CsvSyntaxError) {
            throw new ApiError('validation_failed', `Invalid CSV: ${error.message}`, {
              details: [{ path: `line ${error.line}`, message: error.message, in: 'body' }],
            });
          }
          throw error;
        }
        if (parsed.rows.length > MAX_ROWS)
          throw new ApiError('validation_failed', `At most ${MAX_ROWS} rows per import`);
        const toValue =
          type === 'users' ? csvUser : type === 'groups' ? csvGroup : (cells: Record<string, string>) => cells;
        const rows: Row[] = [];
        for (const r of parsed.rows) {
          if (r.extra)
            errors.push({ section: type, row: r.line, field: '(row)', message: 'more cells than header columns' });
          else rows.push({ row: r.line, value: toValue(r.cells) });
        }
        if (type === 'users') users = rows;
        else if (type === 'groups') groups = rows;
        else memberships = rows;
      } else if (contentType.startsWith('application/json')) {
        const body = c.req.valid('json');
        if (typeof body === 'string') throw new ApiError('validation_failed', 'Expected a JSON object');
        const rows = (list: unknown[] | undefined): Row[] => (list ?? []).map((value, i) => ({ row: i + 1, value }));
        users = rows(body.users);
        groups = rows(body.groups);
        memberships = rows(body.memberships);
      } else {
        throw new ApiError('unsupported_media_type', 'Send application/json or text/csv');
      }
      users = storableRows('users', users, errors);
      groups = storableRows('groups', groups, errors);
      memberships = storableRows('memberships', memberships, errors);

      const report: ImportReport = {
        users: emptyCounts(users.length),
        groups: emptyCounts(groups.length),
        memberships: emptyCounts(memberships.length),
        errors,
      };
      // CSV rows rejected before parsing count as received and failed.
      for (const e of errors) {
        report[e.section].received++;
        report[e.section].failed++;
      }
      const importer = new DirectoryImporter(store, report);
      await importer.users(users);
      await importer.groups(groups);
      await importer.memberships(memberships);
      if (report.errors.length > MAX_ERRORS_LISTED) report.errors = report.errors.slice(0, MAX_ERRORS_LISTED);
      return c.json(report, 200);
    },
    // Not the default hook: a row Ferry cannot store fails alone (storableRows), not the whole import.
    schemaHook,
  );

  return router;
}

/** The rows Ferry can store; each other row (U+0000, absurd nesting) is reported like any other bad row. */
function storableRows(section: ImportSection, rows: Row[], errors: ImportRowError[]): Row[] {
  return rows.filter(({ row, value }) => {
    const bad = unstorablePart(value);
    if (!bad) return true;
    errors.push({ section, row, field: bad.path || '(row)', message: bad.message });
    return false;
  });
}

/** One import: indexes of what exists (loaded once), then each section validated, resolved and written in bulk. */
class DirectoryImporter {
  private userIdByName: Map<string, string> | null = null;
  private userIds: Set<string> | null = null;
  private groupsById: Map<string, DirectoryGroup> | null = null;

  constructor(
    private readonly store: Store,
    private readonly report: ImportReport,
  ) {}

  private fail(section: ImportSection, row: number, field: string, message: string): void {
    this.report.errors.push({ section, row, field, message });
    this.report[section].failed++;
  }

  private async loadUsers(): Promise<void> {
    if (this.userIdByName && this.userIds) return;
    const byName = new Map<string, string>();
    const ids = new Set<string>();
    let cursor: string | null = null;
    do {
      const page: { items: DirectoryUser[]; nextCursor: string | null } = await this.store.directory.listUsers({
        cursor,
        limit: 1000,
        deleted: 'include',
      });
      for (const u of page.items) {
        byName.set(u.userPrincipalName.toLowerCase(), u.id);
        ids.add(u.id);
      }
      cursor = page.nextCursor;
    } while (cursor);
    this.userIdByName = byName;
    this.userIds = ids;
  }

  private async loadGroups(): Promise<Map<string, DirectoryGroup>> {
    if (this.groupsById) return this.groupsById;
    const byId = new Map<string, DirectoryGroup>();
    let cursor: string | null = null;
    do {
      const page: { items: DirectoryGroup[]; nextCursor: string | null } = await this.store.directory.listGroups({
        cursor,
        limit: 1000,
        deleted: 'include',
      });
      for (const g of page.items) byId.set(g.id, g);
      cursor = page.nextCursor;
    } while (cursor);
    this.groupsById = byId;
    return byId;
  }

  async users(rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    await this.loadUsers();
    const byName = this.userIdByName!;
    const ids = this.userIds!;
    const seenNames = new Map<string, number>();
    const seenIds = new Map<string, number>();
    const accepted: { row: number; input: UserInput; existed: boolean }[] = [];
    for (const { row, value } of rows) {
      const parsed = newUserSchema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        this.fail('users', row, issuePath(issue.path) || '(row)', issue.message);
        continue;
      }
      const input = parsed.data;
      const name = input.userPrincipalName.toLowerCase();
      const owner = byName.get(name);
      if (input.id !== undefined && owner !== undefined && owner !== input.id) {
        this.fail('users', row, 'userPrincipalName', `already used by user ${owner}`);
        continue;
      }
      const id = input.id ?? owner ?? randomUUID();
      const earlierName = seenNames.get(name);
      if (earlierName !== undefined) {
        this.fail('users', row, 'userPrincipalName', `duplicate of row ${earlierName} in this import`);
        continue;
      }
      const earlierId = seenIds.get(id);
      if (earlierId !== undefined) {
        this.fail('users', row, 'id', `duplicate of row ${earlierId} in this import`);
        continue;
      }
      seenNames.set(name, row);
      seenIds.set(id, row);
      accepted.push({ row, input: { ...input, id }, existed: ids.has(id) });
    }
    // Managers may be existing users or users of this import.
    const known = (id: string) => ids.has(id) || seenIds.has(id);
    const writable = accepted.filter(({ row, input }) => {
      if (input.managerId && (!known(input.managerId) || input.managerId === input.id)) {
        this.fail(
          'users',
          row,
          'managerId',
          input.managerId === input.id ? 'a user cannot be their own manager' : `no user ${input.managerId}`,
        );
        return false;
      }
      return true;
    });
    if (writable.length === 0) return;
    await this.store.directory.bulkUpsertUsers(writable.map((w) => w.input));
    for (const w of writable) {
      this.report.users[w.existed ? 'updated' : 'created']++;
      byName.set(w.input.userPrincipalName.toLowerCase(), w.input.id!);
      ids.add(w.input.id!);
    }
  }

  async groups(rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const byId = await this.loadGroups();
    const byName = uniqueNames(byId);
    const seen = new Map<string, number>();
    const writable: { input: GroupInput & { id: string }; existing: DirectoryGroup | undefined }[] = [];
    for (const { row, value } of rows) {
      const parsed = newGroupSchema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        this.fail('groups', row, issuePath(issue.path) || '(row)', issue.message);
        continue;
      }
      const input = parsed.data;
      const byNameId = byName.get(input.displayName);
      const id = input.id ?? (byNameId === null ? undefined : byNameId) ?? randomUUID();
      if (input.id === undefined && byNameId === null) {
        this.fail('groups', row, 'displayName', 'several groups have this displayName; give the id');
        continue;
      }
      const earlier = seen.get(id);
      if (earlier !== undefined) {
        this.fail('groups', row, input.id ? 'id' : 'displayName', `duplicate of row ${earlier} in this import`);
        continue;
      }
      seen.set(id, row);
      writable.push({ input: { ...input, id }, existing: byId.get(id) });
    }
    // Groups are few next to users: one write each keeps their change records exact.
    for (const { input, existing } of writable) {
      const group = existing
        ? await this.store.directory.replaceGroup(input.id, { ...input, deletedDateTime: null })
        : await this.store.directory.createGroup(input);
      byId.set(group.id, group);
      this.report.groups[existing ? 'updated' : 'created']++;
    }
  }

  async memberships(rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    await this.loadUsers();
    const groupsById = await this.loadGroups();
    const groupNames = uniqueNames(groupsById);
    const userIds = this.userIds!;
    const userByName = this.userIdByName!;
    const resolveGroup = (ref: string): string | null => (groupsById.has(ref) ? ref : (groupNames.get(ref) ?? null));
    const items: Membership[] = [];
    const itemRows: number[] = [];
    for (const { row, value } of rows) {
      const parsed = membershipRowSchema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        this.fail('memberships', row, issuePath(issue.path) || '(row)', issue.message);
        continue;
      }
      const { groupId: groupRef, memberId: memberRef } = parsed.data;
      const groupId = resolveGroup(groupRef);
      if (!groupId) {
        this.fail('memberships', row, 'groupId', `no group with id or unique displayName ${groupRef}`);
        continue;
      }
      let member: Membership | null = null;
      if (userIds.has(memberRef)) member = { groupId, memberId: memberRef, memberType: 'user' };
      else if (userByName.has(memberRef.toLowerCase()))
        member = { groupId, memberId: userByName.get(memberRef.toLowerCase())!, memberType: 'user' };
      else {
        const nested = resolveGroup(memberRef);
        if (nested) member = { groupId, memberId: nested, memberType: 'group' };
      }
      if (!member) {
        this.fail('memberships', row, 'memberId', `no user or group ${memberRef}`);
        continue;
      }
      if (member.memberId === groupId) {
        this.fail('memberships', row, 'memberId', 'a group cannot be a member of itself');
        continue;
      }
      items.push(member);
      itemRows.push(row);
    }
    if (items.length === 0) return;
    const { added, refused } = await this.store.directory.importMembers(items);
    for (const { index, cycle } of refused)
      this.fail('memberships', itemRows[index], 'memberId', `group nesting cycle: ${cycle.join(' → ')}`);
    this.report.memberships.created += added;
    this.report.memberships.updated += items.length - refused.length - added;
  }
}

/** displayName → id, or null when several groups share the name. */
function uniqueNames(byId: Map<string, DirectoryGroup>): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const g of byId.values()) out.set(g.displayName, out.has(g.displayName) ? null : g.id);
  return out;
}
