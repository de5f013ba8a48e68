/** @jsxImportSource hono/jsx */
// The directory: users or groups, searched by name, a page at a time; a group's members, direct or
// through nesting, with their names; the apps a user or group is assigned to (directly or through a
// group), linking to the app pages.
import { query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { ActionButton, Layout, Time, can } from '../layout.tsx';
import type { DirectoryGroup, DirectoryUser, Member, ObjectAssignment, Page } from '../types.ts';
import { appUrl } from './app.tsx';
import { groupUrl, userUrl } from './urls.ts';
import {
  AddMemberForm,
  GroupForm,
  RemoveMemberButton,
  UserForm,
  groupState,
  userState,
  type FormState,
} from './directory-forms.tsx';
import { ImportForm } from './directory-import.tsx';

const PAGE_SIZE = 50;
/** The notice or error a change redirected back with (post-redirect-get). */
const outcomeOf = (c: ConsoleContext) => ({ notice: c.req.query('notice'), error: c.req.query('error') });

/** A page of the apps a user or group is assigned to; `appsCursor` in the page's URL pages on. */
const loadAssignedApps = (c: ConsoleContext, kind: 'users' | 'groups', id: string) =>
  c
    .get('client')
    .need<Page<ObjectAssignment>>(
      `/directory/${kind}/${encodeURIComponent(id)}/assignments${query({ limit: PAGE_SIZE, cursor: c.req.query('appsCursor') })}`,
    );

function AssignedApps({ page, next }: { page: Page<ObjectAssignment>; next: string | null }) {
  return (
    <section aria-labelledby="apps-h">
      <h2 id="apps-h">Assigned apps</h2>
      {page.items.length === 0 ? (
        <p>Not assigned to any app, directly or through a group.</p>
      ) : (
        <div class="scroll">
          <table>
            <caption class="sr-only">Apps this object is assigned to</caption>
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col">Role</th>
                <th scope="col">Assigned</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((a) => (
                <tr>
                  <td>
                    <a href={appUrl(a.appId)}>{a.appName}</a>
                  </td>
                  <td>{a.role}</td>
                  <td>
                    {a.viaGroupId === null ? (
                      'directly'
                    ) : (
                      <>
                        through group <a href={groupUrl(a.viaGroupId)}>{a.viaGroupName ?? a.viaGroupId}</a>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next ? (
        <p>
          <a href={next}>Next page of apps</a>
        </p>
      ) : null}
    </section>
  );
}

export function directoryRoutes(router: ConsoleRouter) {
  listRoute(router);
  groupRoute(router);
  userRoute(router);
}

function listRoute(router: ConsoleRouter) {
  router.get('/console/directory', async (c) => {
    const kind = c.req.query('kind') === 'groups' ? 'groups' : 'users';
    const search = (c.req.query('search') ?? '').trim();
    const page = await c
      .get('client')
      .need<Page<DirectoryUser | DirectoryGroup>>(
        `/directory/${kind}${query({ search, limit: PAGE_SIZE, cursor: c.req.query('cursor') })}`,
      );
    return c.html(
      <Layout title="Directory" me={c.get('me')} csrf={c.get('csrf')} {...outcomeOf(c)}>
        {can(c.get('me'), 'directory:write') ? (
          <p class="actions">
            <a href="/console/directory/new/user">New user</a> · <a href="/console/directory/new/group">New group</a>
          </p>
        ) : null}
        <form method="get" class="filters">
          <label for="d-kind">Show</label>
          <select id="d-kind" name="kind">
            <option value="users" selected={kind === 'users'}>
              users
            </option>
            <option value="groups" selected={kind === 'groups'}>
              groups
            </option>
          </select>
          <label for="d-search">Name contains</label>
          <input id="d-search" name="search" value={search} />
          <button type="submit">Search</button>
        </form>
        <div class="scroll">
          <table>
            <caption class="sr-only">Directory {kind}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">{kind === 'users' ? 'User principal name' : 'Description'}</th>
                <th scope="col">Id</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((item) => (
                <tr>
                  <td>
                    <a href={kind === 'groups' ? groupUrl(item.id) : userUrl(item.id)}>
                      {item.displayName ?? (item as DirectoryUser).userPrincipalName}
                    </a>
                  </td>
                  <td>
                    {'userPrincipalName' in item
                      ? item.userPrincipalName
                      : ((item as DirectoryGroup).description ?? '')}
                  </td>
                  <td>
                    <code>{item.id}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {page.items.length === 0 ? <p>None found.</p> : null}
        {page.nextCursor ? (
          <p>
            <a href={`/console/directory${query({ kind, search, cursor: page.nextCursor })}`}>Next page</a>
          </p>
        ) : null}
        {can(c.get('me'), 'directory:write') ? <ImportForm csrf={c.get('csrf')} /> : null}
      </Layout>,
    );
  });
}

function MembersTable(props: { c: ConsoleContext; group: DirectoryGroup; page: Page<Member>; nested: boolean }) {
  const { group, page, nested } = props;
  const csrf = props.c.get('csrf');
  // Only a direct member can be removed; the nested view lists members of other groups too.
  const removable = !nested && !group.deletedDateTime && can(props.c.get('me'), 'directory:write');
  return (
    <div class="scroll">
      <table>
        <caption class="sr-only">Members of {group.displayName}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Id</th>
            {removable ? <th scope="col">Change</th> : null}
          </tr>
        </thead>
        <tbody>
          {page.items.map((member) => (
            <tr>
              <td>
                <a href={member.memberType === 'group' ? groupUrl(member.memberId) : userUrl(member.memberId)}>
                  {member.displayName ?? member.memberId}
                </a>
              </td>
              <td>{member.memberType}</td>
              <td>
                <code>{member.memberId}</code>
              </td>
              {removable ? (
                <td>
                  <RemoveMemberButton
                    groupId={group.id}
                    memberId={member.memberId}
                    label={`${member.displayName ?? member.memberId} from ${group.displayName}`}
                    csrf={csrf}
                  />
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A group's change forms: edit and delete while active, restore from the recycle bin. */
function GroupChanges({ c, group, edit }: { c: ConsoleContext; group: DirectoryGroup; edit: FormState }) {
  const csrf = c.get('csrf');
  if (group.deletedDateTime) {
    return (
      <section aria-labelledby="change-h">
        <h2 id="change-h">Recycle bin</h2>
        <ActionButton action={`${groupUrl(group.id)}/restore`} label="Restore group" csrf={csrf} kind="primary" />
      </section>
    );
  }
  return (
    <section aria-labelledby="change-h">
      <h2 id="change-h">Edit group</h2>
      <GroupForm action={groupUrl(group.id)} csrf={csrf} state={edit} submit="Save group" />
      <p>
        <a href={`${groupUrl(group.id)}/delete`}>Delete this group…</a>
      </p>
    </section>
  );
}

function MembersSection({
  c,
  group,
  page,
  nested,
}: {
  c: ConsoleContext;
  group: DirectoryGroup;
  page: Page<Member>;
  nested: boolean;
}) {
  const id = group.id;
  const memberError = c.req.query('memberError') ?? null;
  return (
    <>
      <h2>Members</h2>
      <p>
        {nested ? (
          <>
            Every member, through nested groups (each once, as apps receive them).{' '}
            <a href={groupUrl(id)}>Show direct members only</a>
          </>
        ) : (
          <>
            Direct members. <a href={`${groupUrl(id)}${query({ nested: '1' })}`}>Show members of nested groups too</a>
          </>
        )}
      </p>
      {can(c.get('me'), 'directory:write') && !group.deletedDateTime ? (
        <AddMemberForm
          groupId={id}
          csrf={c.get('csrf')}
          name={memberError ? (c.req.query('memberName') ?? '') : ''}
          error={memberError}
        />
      ) : null}
      <MembersTable c={c} group={group} page={page} nested={nested} />
      {page.items.length === 0 ? <p>No members.</p> : null}
      {page.nextCursor ? (
        <p>
          <a href={`${groupUrl(id)}${query({ nested: nested ? '1' : undefined, cursor: page.nextCursor })}`}>
            Next page
          </a>
        </p>
      ) : null}
    </>
  );
}

/** A group's page; `edit` is a refused edit to show again with its complaints (else the stored values). */
export async function groupPage(c: ConsoleContext, id: string, edit?: FormState, status: 200 | 400 | 403 | 409 = 200) {
  const nested = c.req.query('nested') === '1';
  const client = c.get('client');
  const [group, apps, page] = await Promise.all([
    client.need<DirectoryGroup>(`/directory/groups/${encodeURIComponent(id)}`),
    loadAssignedApps(c, 'groups', id),
    client.need<Page<Member>>(
      `/directory/groups/${encodeURIComponent(id)}/members${query({
        transitive: nested ? 'true' : undefined,
        limit: PAGE_SIZE,
        cursor: c.req.query('cursor'),
      })}`,
    ),
  ]);
  const outcome = edit ? { error: edit.error } : outcomeOf(c);
  return c.html(
    <Layout title={`Group ${group.displayName}`} me={c.get('me')} csrf={c.get('csrf')} {...outcome}>
      <p>
        <a href="/console/directory?kind=groups">All groups</a>
      </p>
      {group.description ? <p>{group.description}</p> : null}
      {group.deletedDateTime ? (
        <p>
          Deleted (in the recycle bin) since <Time iso={group.deletedDateTime} />: apps remove the group at their next
          cycle.
        </p>
      ) : null}
      <AssignedApps
        page={apps}
        next={
          apps.nextCursor
            ? `${groupUrl(id)}${query({ nested: nested ? '1' : undefined, appsCursor: apps.nextCursor })}`
            : null
        }
      />
      <MembersSection c={c} group={group} page={page} nested={nested} />
      {can(c.get('me'), 'directory:write') ? (
        <GroupChanges c={c} group={group} edit={edit ?? groupState(group)} />
      ) : null}
    </Layout>,
    status,
  );
}

function groupRoute(router: ConsoleRouter) {
  router.get('/console/directory/groups/:id', (c) => groupPage(c, c.req.param('id')));
}

/** A user's change forms: edit and delete while active, restore from the recycle bin. */
function UserChanges({ c, user, edit }: { c: ConsoleContext; user: DirectoryUser; edit: FormState }) {
  const csrf = c.get('csrf');
  if (user.deletedDateTime) {
    return (
      <section aria-labelledby="change-h">
        <h2 id="change-h">Recycle bin</h2>
        <ActionButton action={`${userUrl(user.id)}/restore`} label="Restore user" csrf={csrf} kind="primary" />
      </section>
    );
  }
  return (
    <section aria-labelledby="change-h">
      <h2 id="change-h">Edit user</h2>
      <UserForm action={userUrl(user.id)} csrf={csrf} state={edit} submit="Save user" />
      <p>
        <a href={`${userUrl(user.id)}/delete`}>Delete this user…</a>
      </p>
    </section>
  );
}

/** A user's page; `edit` is a refused edit to show again with its complaints (else the stored values). */
export async function userPage(c: ConsoleContext, id: string, edit?: FormState, status: 200 | 400 | 403 | 409 = 200) {
  const [user, apps] = await Promise.all([
    c.get('client').need<DirectoryUser>(`/directory/users/${encodeURIComponent(id)}`),
    loadAssignedApps(c, 'users', id),
  ]);
  const outcome = edit ? { error: edit.error } : outcomeOf(c);
  return c.html(
    <Layout
      title={`User ${user.displayName ?? user.userPrincipalName}`}
      me={c.get('me')}
      csrf={c.get('csrf')}
      {...outcome}
    >
      <p>
        <a href="/console/directory">All users</a>
      </p>
      <p>
        <code>{user.userPrincipalName}</code> · <code>{user.id}</code>
        {user.jobTitle ? ` · ${user.jobTitle}` : ''}
        {user.accountEnabled === false ? ' · account disabled' : ''}
      </p>
      {user.deletedDateTime ? (
        <p>
          Deleted (in the recycle bin) since <Time iso={user.deletedDateTime} />: apps disable the account at their next
          cycle.
        </p>
      ) : null}
      <AssignedApps
        page={apps}
        next={apps.nextCursor ? `${userUrl(id)}${query({ appsCursor: apps.nextCursor })}` : null}
      />
      {can(c.get('me'), 'directory:write') ? <UserChanges c={c} user={user} edit={edit ?? userState(user)} /> : null}
    </Layout>,
    status,
  );
}

function userRoute(router: ConsoleRouter) {
  router.get('/console/directory/users/:id', (c) => userPage(c, c.req.param('id')));
}
