/** @jsxImportSource hono/jsx */
// Changing the directory from the console (keys whose role holds directory:write; the API refuses
// anyone else): create and edit a user, soft-delete one after a confirmation page, restore it,
// create a group, add a member found by name and remove one. Each change is one API call; a
// success redirects to the object's page (post-redirect-get), a refusal shows the form again with
// the API's complaint next to the field it names.
import { describeProblem, query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { CsrfField, Layout, can } from '../layout.tsx';
import type { DirectoryGroup, DirectoryUser } from '../types.ts';
import { findPrincipal } from './assignments.tsx';
import { groupPage, userPage } from './directory.tsx';
import { groupUrl, userUrl } from './urls.ts';
import {
  GROUP_FIELDS,
  GroupForm,
  USER_FIELDS,
  UserForm,
  emptyState,
  postedGroup,
  postedUser,
  refusal,
  type FormState,
} from './directory-forms.tsx';
import { formText } from './form.ts';

const WRITE = 'directory:write';
const apiUser = (id: string) => `/directory/users/${encodeURIComponent(id)}`;
const apiGroup = (id: string) => `/directory/groups/${encodeURIComponent(id)}`;
type Refused = 400 | 403 | 409;
/** The refusal's HTTP status for the re-rendered form (anything but a 403 or 409 is a 400 for the page). */
const refusedStatus = (status: number): Refused => (status === 409 || status === 403 ? status : 400);

const noPermission = (c: ConsoleContext, title: string) =>
  c.html(
    <Layout title={title} me={c.get('me')} csrf={c.get('csrf')} error="Your key's role cannot change the directory." />,
    403,
  );

function newUserPage(c: ConsoleContext, state: FormState, status: 200 | Refused = 200) {
  return c.html(
    <Layout title="New user" me={c.get('me')} csrf={c.get('csrf')} error={state.error}>
      <p>
        <a href="/console/directory">All users</a>
      </p>
      <UserForm action="/console/directory/users" csrf={c.get('csrf')} state={state} submit="Create user" />
    </Layout>,
    status,
  );
}

function newGroupPage(c: ConsoleContext, state: FormState, status: 200 | Refused = 200) {
  return c.html(
    <Layout title="New group" me={c.get('me')} csrf={c.get('csrf')} error={state.error}>
      <p>
        <a href="/console/directory?kind=groups">All groups</a>
      </p>
      <GroupForm csrf={c.get('csrf')} state={state} />
    </Layout>,
    status,
  );
}

export function directoryEditRoutes(router: ConsoleRouter) {
  userCreateRoutes(router);
  userChangeRoutes(router);
  groupRoutes(router);
  groupChangeRoutes(router);
}

function userCreateRoutes(router: ConsoleRouter) {
  router.get('/console/directory/new/user', (c) =>
    can(c.get('me'), WRITE) ? newUserPage(c, emptyState({ accountEnabled: 'true' })) : noPermission(c, 'New user'),
  );

  router.post('/console/directory/users', async (c) => {
    const { values, body } = postedUser(await c.req.parseBody());
    if (!values.userPrincipalName) {
      const errors = { userPrincipalName: 'User principal name: required' };
      return newUserPage(c, { values, errors, error: 'Not created: give a user principal name' }, 400);
    }
    const result = await c.get('client').call<DirectoryUser>('POST', '/directory/users', body);
    if (!result.ok) {
      return newUserPage(c, refusal('Not created', result.problem, USER_FIELDS, values), refusedStatus(result.status));
    }
    const name = result.data.displayName ?? result.data.userPrincipalName;
    return c.redirect(`${userUrl(result.data.id)}${query({ notice: `Created user ${name}` })}`, 303);
  });
}

function userChangeRoutes(router: ConsoleRouter) {
  router.post('/console/directory/users/:id', async (c) => {
    const id = c.req.param('id');
    const { values, body } = postedUser(await c.req.parseBody());
    if (!values.userPrincipalName) {
      const errors = { userPrincipalName: 'User principal name: required' };
      return userPage(c, id, { values, errors, error: 'Not saved: give a user principal name' }, 400);
    }
    const result = await c.get('client').call<DirectoryUser>('PATCH', apiUser(id), body);
    if (!result.ok) {
      return userPage(c, id, refusal('Not saved', result.problem, USER_FIELDS, values), refusedStatus(result.status));
    }
    return c.redirect(`${userUrl(id)}${query({ notice: 'User saved' })}`, 303);
  });

  // Deleting asks first, on a page of its own: what it does, one button, and a way back.
  router.get('/console/directory/users/:id/delete', async (c) => {
    const id = c.req.param('id');
    const user = await c.get('client').need<DirectoryUser>(apiUser(id));
    const name = user.displayName ?? user.userPrincipalName;
    if (!can(c.get('me'), WRITE)) return noPermission(c, `Delete ${name}?`);
    return c.html(
      <Layout title={`Delete ${name}?`} me={c.get('me')} csrf={c.get('csrf')}>
        <p>
          <code>{user.userPrincipalName}</code> goes to the recycle bin: every app disables the account at its next
          cycle. <em>Restore</em> on the user's page brings it back.
        </p>
        <form method="post" action={`${userUrl(id)}/delete`} class="inline">
          <CsrfField csrf={c.get('csrf')} />
          <input type="hidden" name="confirm" value="yes" />
          <button type="submit" class="danger">
            Delete {name}
          </button>
        </form>{' '}
        <a href={userUrl(id)}>Cancel</a>
      </Layout>,
    );
  });

  router.post('/console/directory/users/:id/delete', async (c) => {
    const id = c.req.param('id');
    if (formText(await c.req.parseBody(), 'confirm') !== 'yes') return c.redirect(`${userUrl(id)}/delete`, 303);
    const result = await c.get('client').call<DirectoryUser>('DELETE', apiUser(id));
    const outcome = result.ok
      ? { notice: 'Deleted: the user is in the recycle bin' }
      : { error: `Not deleted: ${describeProblem(result.problem)}` };
    return c.redirect(`${userUrl(id)}${query(outcome)}`, 303);
  });

  router.post('/console/directory/users/:id/restore', async (c) => {
    const id = c.req.param('id');
    const result = await c.get('client').call('POST', `${apiUser(id)}/restore`);
    const outcome = result.ok ? { notice: 'Restored' } : { error: `Not restored: ${describeProblem(result.problem)}` };
    return c.redirect(`${userUrl(id)}${query(outcome)}`, 303);
  });
}

function groupRoutes(router: ConsoleRouter) {
  router.get('/console/directory/new/group', (c) =>
    can(c.get('me'), WRITE) ? newGroupPage(c, emptyState()) : noPermission(c, 'New group'),
  );

  router.post('/console/directory/groups', async (c) => {
    const { values, body } = postedGroup(await c.req.parseBody());
    if (!values.displayName) {
      const errors = { displayName: 'Display name: required' };
      return newGroupPage(c, { values, errors, error: 'Not created: give the group a name' }, 400);
    }
    const result = await c.get('client').call<DirectoryGroup>('POST', '/directory/groups', body);
    if (!result.ok) {
      return newGroupPage(
        c,
        refusal('Not created', result.problem, GROUP_FIELDS, values),
        refusedStatus(result.status),
      );
    }
    return c.redirect(
      `${groupUrl(result.data.id)}${query({ notice: `Created group ${result.data.displayName}` })}`,
      303,
    );
  });

  // A member is found by name; what goes wrong (no match, several, a nesting cycle) shows at the field.
  router.post('/console/directory/groups/:id/members', async (c) => {
    const id = c.req.param('id');
    const name = formText(await c.req.parseBody(), 'name');
    const refused = (message: string) =>
      c.redirect(`${groupUrl(id)}${query({ memberError: message, memberName: name })}`, 303);
    const principal = name ? await findPrincipal(c, name) : { error: 'Type a name' };
    if ('error' in principal) return refused(`Not added: ${principal.error}`);
    const result = await c.get('client').call('POST', `${apiGroup(id)}/members`, { memberId: principal.id });
    if (!result.ok) return refused(`Not added: ${describeProblem(result.problem)}`);
    const notice =
      result.status === 201 ? `Added ${principal.type} ${principal.label}` : `${principal.label} was already a member`;
    return c.redirect(`${groupUrl(id)}${query({ notice })}`, 303);
  });

  router.post('/console/directory/groups/:id/members/remove', async (c) => {
    const id = c.req.param('id');
    const memberId = formText(await c.req.parseBody(), 'memberId');
    const result = await c.get('client').call('DELETE', `${apiGroup(id)}/members/${encodeURIComponent(memberId)}`);
    const outcome = result.ok
      ? { notice: 'Member removed' }
      : { error: `Not removed: ${describeProblem(result.problem)}` };
    return c.redirect(`${groupUrl(id)}${query(outcome)}`, 303);
  });
}

/** Rename a group (or change its description), soft-delete it after a confirmation page, restore it. */
function groupChangeRoutes(router: ConsoleRouter) {
  router.post('/console/directory/groups/:id', async (c) => {
    const id = c.req.param('id');
    const { values, body } = postedGroup(await c.req.parseBody());
    if (!values.displayName) {
      const errors = { displayName: 'Display name: required' };
      return groupPage(c, id, { values, errors, error: 'Not saved: give the group a name' }, 400);
    }
    const result = await c.get('client').call<DirectoryGroup>('PATCH', apiGroup(id), body);
    if (!result.ok) {
      return groupPage(c, id, refusal('Not saved', result.problem, GROUP_FIELDS, values), refusedStatus(result.status));
    }
    return c.redirect(`${groupUrl(id)}${query({ notice: 'Group saved' })}`, 303);
  });

  router.get('/console/directory/groups/:id/delete', async (c) => {
    const id = c.req.param('id');
    const group = await c.get('client').need<DirectoryGroup>(apiGroup(id));
    const title = `Delete ${group.displayName}?`;
    if (!can(c.get('me'), WRITE)) return noPermission(c, title);
    return c.html(
      <Layout title={title} me={c.get('me')} csrf={c.get('csrf')}>
        <p>
          The group goes to the recycle bin: every app removes it at its next cycle, and its members lose what they had
          through it. <em>Restore</em> on the group's page brings it back.
        </p>
        <form method="post" action={`${groupUrl(id)}/delete`} class="inline">
          <CsrfField csrf={c.get('csrf')} />
          <input type="hidden" name="confirm" value="yes" />
          <button type="submit" class="danger">
            Delete {group.displayName}
          </button>
        </form>{' '}
        <a href={groupUrl(id)}>Cancel</a>
      </Layout>,
    );
  });

  router.post('/console/directory/groups/:id/delete', async (c) => {
    const id = c.req.param('id');
    if (formText(await c.req.parseBody(), 'confirm') !== 'yes') return c.redirect(`${groupUrl(id)}/delete`, 303);
    const result = await c.get('client').call<DirectoryGroup>('DELETE', apiGroup(id));
    const outcome = result.ok
      ? { notice: 'Deleted: the group is in the recycle bin' }
      : { error: `Not deleted: ${describeProblem(result.problem)}` };
    return c.redirect(`${groupUrl(id)}${query(outcome)}`, 303);
  });

  router.post('/console/directory/groups/:id/restore', async (c) => {
    const id = c.req.param('id');
    const result = await c.get('client').call('POST', `${apiGroup(id)}/restore`);
    const outcome = result.ok ? { notice: 'Restored' } : { error: `Not restored: ${describeProblem(result.problem)}` };
    return c.redirect(`${groupUrl(id)}${query(outcome)}`, 303);
  });
}
