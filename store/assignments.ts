// App role assignments: which users and groups an app provisions, with which role. Assigning is a
// directory write, so it appends to the change log like the rest of the directory.
import { and, asc, eq, sql } from 'drizzle-orm';
import type { AppRoleAssignment, ObjectType } from '../engine/types.ts';
import { recordChanges } from './changes.ts';
import { advisoryXactLock, inTransaction, LOCK_DIRECTORY_CHANGES, query, type Executor } from './db.ts';
import { DirectoryRepository } from './directory.ts';
import { notFound } from './errors.ts';
import { apps, assignments } from './schema.ts';

/** Role given when none is named (any role but Default Access `msiam_access` puts the principal in scope). */
export const DEFAULT_ROLE = 'User';

/** An assignment that applies to an object, directly (`viaGroupId` null) or through a (nested) group. */
export interface EffectiveAssignment {
  role: string;
  principalId: string;
  viaGroupId: string | null;
}

/** One app a user or group is assigned to, with the assignment that puts it there. */
export interface ObjectAssignment {
  appId: string;
  appName: string;
  role: string;
  /** Whose assignment it is: the object itself, or a group containing it. */
  principalId: string;
  /** The group the assignment comes through (null: assigned directly). */
  viaGroupId: string | null;
  viaGroupName: string | null;
}

const toAssignment = (r: typeof assignments.$inferSelect): AppRoleAssignment => ({
  appId: r.appId,
  principalId: r.principalId,
  principalType: r.principalType,
  role: r.role,
});

export class AssignmentRepository {
  constructor(private readonly db: Executor) {}

  /** Assigns a user or group; returns false when that exact assignment existed. */
  async assign(appId: string, principalId: string, role: string = DEFAULT_ROLE): Promise<boolean> {
    return inTransaction(this.db, async (tx) => {
      await advisoryXactLock(tx, LOCK_DIRECTORY_CHANGES);
      const [app] = await tx.select({ id: apps.id }).from(apps).where(eq(apps.id, appId));
      if (!app) throw notFound('App', appId);
      const principalType = await new DirectoryRepository(tx).objectTypeOf(principalId);
      if (!principalType) throw notFound('Directory object', principalId);
      const inserted = await tx
        .insert(assignments)
        .values({ appId, principalId, principalType, role })
        .onConflictDoNothing()
        .returning();
      if (inserted.length === 0) return false;
      await recordChanges(tx, [
        { objectType: principalType, objectId: principalId, op: 'assignmentAdd', appId, detail: { role } },
      ]);
      return true;
    });
  }

  /** Removes the principal's assignments to the app (only `role` when given); returns how many. */
  async unassign(appId: string, principalId: string, role?: string): Promise<number> {
    return inTransaction(this.db, async (tx) => {
      await advisoryXactLock(tx, LOCK_DIRECTORY_CHANGES);
      const removed = await tx
        .delete(assignments)
        .where(
          and(
            eq(assignments.appId, appId),
            eq(assignments.principalId, principalId),
            role === undefined ? undefined : eq(assignments.role, role),
          ),
        )
        .returning();
      await recordChanges(
        tx,
        removed.map((a) => ({
          objectType: a.principalType,
          objectId: a.principalId,
          op: 'assignmentRemove' as const,
          appId,
          detail: { role: a.role },
        })),
      );
      return removed.length;
    });
  }

  async listByApp(appId: string): Promise<AppRoleAssignment[]> {
    const rows = await this.db
      .select()
      .from(assignments)
      .where(eq(assignments.appId, appId))
      .orderBy(asc(assignments.principalId), asc(assignments.role));
    return rows.map(toAssignment);
  }

  async listByPrincipal(principalId: string): Promise<AppRoleAssignment[]> {
    const rows = await this.db
      .select()
      .from(assignments)
      .where(eq(assignments.principalId, principalId))
      .orderBy(asc(assignments.appId));
    return rows.map(toAssignment);
  }

  /**
   * Assignments that apply to one user or group for an app: its own, and those of every group
   * containing it directly or through nesting. The scoping step decides which roles count.
   */
  async effectiveFor(appId: string, objectId: string): Promise<EffectiveAssignment[]> {
    const rows = await query<{ role: string; principal_id: string }>(
      this.db,
      sql`with recursive anc(group_id) as (
            select group_id from directory_memberships where member_id = ${objectId}
            union
            select m.group_id from directory_memberships m join anc a on m.member_id = a.group_id
          )
          select role, principal_id from app_role_assignments
          where app_id = ${appId} and (principal_id = ${objectId} or principal_id in (select group_id from anc))
          order by principal_id, role`,
    );
    return rows.map((r) => ({
      role: r.role,
      principalId: r.principal_id,
      viaGroupId: r.principal_id === objectId ? null : r.principal_id,
    }));
  }

  /**
   * The apps a user or group is assigned to, a page at a time: its own assignments (`viaGroupId`
   * null) and those of every group containing it directly or through nesting, in (app, principal,
   * role) order; `after` is the last row's (appId, principalId, role).
   */
  async pageForObject(
    objectId: string,
    options: { after?: readonly [string, string, string]; limit: number },
  ): Promise<ObjectAssignment[]> {
    const [appId, principalId, role] = options.after ?? [null, null, null];
    const rows = await query<{
      app_id: string;
      app_name: string;
      role: string;
      principal_id: string;
      group_name: string | null;
    }>(
      this.db,
      sql`with recursive anc(group_id) as (
            select group_id from directory_memberships where member_id = ${objectId}
            union
            select m.group_id from directory_memberships m join anc a on m.member_id = a.group_id
          )
          select a.app_id, p.name as app_name, a.role, a.principal_id, g.display_name as group_name
          from app_role_assignments a
          join apps p on p.id = a.app_id
          left join directory_groups g on a.principal_id <> ${objectId} and g.id = a.principal_id
          where (a.principal_id = ${objectId} or a.principal_id in (select group_id from anc))
            and (${appId}::text is null
              or (a.app_id, a.principal_id, a.role) > (${appId}::text, ${principalId}::text, ${role}::text))
          order by a.app_id, a.principal_id, a.role
          limit ${options.limit}`,
    );
    return rows.map((r) => ({
      appId: r.app_id,
      appName: r.app_name,
      role: r.role,
      principalId: r.principal_id,
      viaGroupId: r.principal_id === objectId ? null : r.principal_id,
      viaGroupName: r.principal_id === objectId ? null : r.group_name,
    }));
  }

  /**
   * Every user or group assigned to the app, directly or as a member (at any depth) of an assigned
   * group, with the roles that reach it. Soft-deleted objects are included (scoping excludes them).
   */
  async assignedPrincipals(
    appId: string,
    objectType?: ObjectType,
  ): Promise<{ objectId: string; objectType: ObjectType; roles: string[] }[]> {
    const rows = await query<{ object_id: string; object_type: ObjectType; roles: string[] }>(
      this.db,
      sql`with recursive reach(object_id, object_type, role) as (
            select principal_id, principal_type, role from app_role_assignments where app_id = ${appId}
            union
            select m.member_id, m.member_type, r.role from directory_memberships m
              join reach r on r.object_type = 'group' and m.group_id = r.object_id
          )
          select object_id, object_type, array_agg(distinct role order by role) as roles from reach
          where ${objectType ?? null}::text is null or object_type = ${objectType ?? null}::text
          group by object_id, object_type order by object_type desc, object_id`,
    );
    return rows.map((r) => ({ objectId: r.object_id, objectType: r.object_type, roles: r.roles }));
  }
}
