// The users and groups a SCIM source owns, read and written through the store's directory API (so
// every write lands in the change log and the apps' cycles export it). A SCIM source sees only
// its own live objects: anything else is "not found" to it.
import { randomUUID } from 'node:crypto';
import type { DirectoryGroup, DirectoryUser, ObjectType } from '../../engine/types.ts';
import { directoryId } from '../../sources/import.ts';
import {
  ScimInputError,
  toScimGroup,
  toScimUser,
  type ScimResource,
  fromScimGroup,
  fromScimUser,
} from '../../sources/scim-resources.ts';
import type { Store } from '../../store/index.ts';
import { ScimHttpError } from './errors.ts';

export type Loaded<T> = { object: T; externalId: string | null };

export class ScimObjects {
  constructor(
    private readonly store: Store,
    readonly sourceId: string,
    /** `…/scim/v2`, for each resource's meta.location. */
    readonly base: string,
  ) {}

  /** The given objects the source owns and that are live, with their externalIds, in the order given. */
  async load<T extends DirectoryUser | DirectoryGroup>(type: ObjectType, ids: string[]): Promise<Loaded<T>[]> {
    const owners = await this.store.sources.owners(type, ids);
    const owned = ids.filter((id) => owners.get(id)?.sourceId === this.sourceId);
    const objects = (
      type === 'user' ? await this.store.directory.getUsers(owned) : await this.store.directory.getGroups(owned)
    ) as T[];
    const byId = new Map(objects.filter((o) => o.deletedDateTime === null).map((o) => [o.id, o]));
    return owned.flatMap((id) => {
      const object = byId.get(id);
      return object ? [{ object, externalId: owners.get(id)?.ref ?? null }] : [];
    });
  }

  async require<T extends DirectoryUser | DirectoryGroup>(type: ObjectType, id: string): Promise<Loaded<T>> {
    const [found] = await this.load<T>(type, [id]);
    if (!found) throw new ScimHttpError(404, `${type === 'user' ? 'User' : 'Group'} ${id} not found`);
    return found;
  }

  userResource({ object, externalId }: Loaded<DirectoryUser>): ScimResource {
    return toScimUser(object, externalId, `${this.base}/Users/${object.id}`);
  }

  async groupResource({ object, externalId }: Loaded<DirectoryGroup>, withMembers = true): Promise<ScimResource> {
    const members = withMembers ? await this.store.directory.membersOf(object.id) : null;
    return toScimGroup(object, externalId, members, `${this.base}/Groups/${object.id}`);
  }

  /**
   * Writes a user from a SCIM resource: `id` absent creates one. A userName held by a user of this
   * source in the recycle bin brings that user back (a `restore`, so apps re-enable the account);
   * so does one held by a user this source made and deleted while another source (an HR export
   * joined to it) kept providing it: the source provides and owns it again.
   */
  async writeUser(resource: Record<string, unknown>, id?: string): Promise<Loaded<DirectoryUser>> {
    const { user, externalId } = fromScimUser(resource);
    let target = id;
    let reclaim = false;
    if (!target) {
      const holder = await this.store.directory.getUserByPrincipalName(user.userPrincipalName);
      const owner = holder ? (await this.store.sources.owners('user', [holder.id])).get(holder.id) : undefined;
      const ours = owner?.sourceId === this.sourceId;
      if (holder?.deletedDateTime && ours) {
        await this.store.directory.restoreUser(holder.id);
        target = holder.id;
      } else if (holder && !holder.deletedDateTime && !ours && this.made(holder.id)) {
        target = holder.id;
        reclaim = true;
      } else if (holder) {
        throw new ScimHttpError(409, `userName ${user.userPrincipalName} is already taken`, 'uniqueness');
      }
    }
    target ??= directoryId(this.sourceId, randomUUID());
    await this.store.directory.upsertSourceUsers(this.sourceId, [{ ref: externalId, user: { ...user, id: target } }], {
      reclaim,
    });
    return this.require<DirectoryUser>('user', target);
  }

  /** Whether the directory id is one this source gave a user it created (`<sourceId>:<uuid>`). */
  private made(id: string): boolean {
    return id.startsWith(`${this.sourceId}:`);
  }

  /** Writes a group and sets its members to exactly those the resource names (when it names them). */
  async writeGroup(resource: Record<string, unknown>, id?: string): Promise<Loaded<DirectoryGroup>> {
    const { group, externalId, memberIds } = fromScimGroup(resource);
    const target = id ?? directoryId(this.sourceId, randomUUID());
    const wanted = await this.members(memberIds);
    await this.store.directory.upsertSourceGroups(this.sourceId, [
      { ref: externalId, group: { ...group, id: target } },
    ]);
    if (id === undefined || resource.members !== undefined) await this.setMembers(target, wanted);
    return this.require<DirectoryGroup>('group', target);
  }

  /** The given member ids with their types; an id the source does not own is refused. */
  private async members(ids: string[]): Promise<Map<string, ObjectType>> {
    const out = new Map<string, ObjectType>();
    if (ids.length === 0) return out;
    for (const type of ['user', 'group'] as const) {
      for (const { object } of await this.load(type, ids)) out.set(object.id, type);
    }
    const unknown = ids.filter((m) => !out.has(m));
    if (unknown.length) throw new ScimInputError(`unknown members: ${unknown.slice(0, 5).join(', ')}`);
    return out;
  }

  /**
   * Makes the group's members exactly `wanted`: the ones to remove in one batched call, then the ones
   * to add in another (a nesting cycle refuses the additions, none of them made), whatever the
   * number of members — not one store call per member.
   */
  private async setMembers(groupId: string, wanted: Map<string, ObjectType>): Promise<void> {
    const current = await this.store.directory.membersOf(groupId);
    const have = new Set(current.map((m) => m.memberId));
    const gone = current.filter((m) => !wanted.has(m.memberId)).map((m) => ({ groupId, memberId: m.memberId }));
    const added = [...wanted]
      .filter(([memberId]) => !have.has(memberId))
      .map(([memberId, memberType]) => ({ groupId, memberId, memberType }));
    await this.store.directory.removeMembers(gone);
    if (added.length > 0) await this.store.directory.bulkAddMembers(added);
  }

  async softDelete(type: ObjectType, id: string): Promise<void> {
    await this.require(type, id);
    // A user another source also provides stays: only this source's part of it is withdrawn.
    if (type === 'user') await this.store.directory.withdrawSourceUser(this.sourceId, id);
    else await this.store.directory.softDeleteGroup(id);
  }
}
