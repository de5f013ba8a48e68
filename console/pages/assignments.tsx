/** @jsxImportSource hono/jsx */
// An app's assignments with display names (each linking to its directory page), and a form that assigns a group or user found by name.
import { describeProblem, query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { ActionButton, CsrfField, can } from '../layout.tsx';
import type { Assignment, DirectoryGroup, DirectoryUser, Page } from '../types.ts';
import { groupUrl, userUrl } from './urls.ts';

const SHOWN = 50;

async function displayName(c: ConsoleContext, a: Assignment): Promise<string> {
  const kind = a.principalType === 'group' ? 'groups' : 'users';
  const found = await c
    .get('client')
    .get<DirectoryGroup | DirectoryUser>(`/directory/${kind}/${encodeURIComponent(a.principalId)}`);
  if (!found.ok) return a.principalId;
  return found.data.displayName ?? (found.data as DirectoryUser).userPrincipalName ?? a.principalId;
}

export async function AssignmentsSection({ c, appId, back }: { c: ConsoleContext; appId: string; back?: string }) {
  const client = c.get('client');
  const page = await client.get<Page<Assignment>>(
    `/apps/${encodeURIComponent(appId)}/assignments${query({ limit: SHOWN })}`,
  );
  const items = page.ok ? page.data.items : [];
  const names = await Promise.all(items.map((a) => displayName(c, a)));
  const me = c.get('me');
  const csrf = c.get('csrf');
  const action = `/console/apps/${encodeURIComponent(appId)}/assignments${query({ back })}`;
  return (
    <section aria-labelledby="assign-h">
      <h2 id="assign-h">Assignments</h2>
      {items.length === 0 ? <p>Nobody is assigned: with scope “assigned”, nothing is provisioned.</p> : null}
      <ul>
        {items.map((a, i) => (
          <li>
            {a.principalType}{' '}
            <strong>
              <a href={a.principalType === 'group' ? groupUrl(a.principalId) : userUrl(a.principalId)}>{names[i]}</a>
            </strong>{' '}
            <span class="sub">
              ({a.principalId}, {a.role})
            </span>
            {can(me, 'apps:write') ? (
              <ActionButton
                action={`/console/apps/${encodeURIComponent(appId)}/assignments/remove${query({ back })}`}
                name="principalId"
                value={a.principalId}
                label="Remove"
                csrf={csrf}
              />
            ) : null}
          </li>
        ))}
      </ul>
      {page.ok && page.data.nextCursor ? <p class="sub">Showing the first {SHOWN}.</p> : null}
      {can(me, 'apps:write') ? (
        <form method="post" action={action} class="inline">
          <CsrfField csrf={csrf} />
          <label for="assign-name">Assign a group or user (name)</label> <input id="assign-name" name="name" required />{' '}
          <button type="submit">Assign</button>
        </form>
      ) : null}
    </section>
  );
}

/** The one group, else the one user, whose name matches `name` (exactly, if several contain it). */
export async function findPrincipal(
  c: ConsoleContext,
  name: string,
): Promise<{ id: string; label: string; type: 'user' | 'group' } | { error: string }> {
  const client = c.get('client');
  const groups = await client.need<Page<DirectoryGroup>>(`/directory/groups${query({ search: name, limit: 20 })}`);
  const users = await client.need<Page<DirectoryUser>>(`/directory/users${query({ search: name, limit: 20 })}`);
  const candidates = [
    ...groups.items.map((g) => ({ id: g.id, label: g.displayName, type: 'group' as const })),
    ...users.items.map((u) => ({ id: u.id, label: u.displayName ?? u.userPrincipalName, type: 'user' as const })),
  ];
  const exact = candidates.filter((p) => p.label.toLowerCase() === name.toLowerCase() || p.id === name);
  const chosen = exact.length === 1 ? exact : candidates;
  if (chosen.length === 1) return chosen[0];
  if (chosen.length === 0) return { error: `No group or user is named like “${name}”` };
  return {
    error: `${chosen.length}${groups.nextCursor || users.nextCursor ? '+' : ''} match “${name}”: ${chosen
      .slice(0, 5)
      .map((p) => p.label)
      .join(', ')}… — type the whole name`,
  };
}

export function assignmentRoutes(router: ConsoleRouter) {
  const backUrl = (c: ConsoleContext, id: string) =>
    c.req.query('back') === 'setup'
      ? `/console/new/${encodeURIComponent(id)}`
      : `/console/apps/${encodeURIComponent(id)}`;

  router.post('/console/apps/:id/assignments', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const name = typeof form.name === 'string' ? form.name.trim() : '';
    const back = backUrl(c, id);
    const principal = name ? await findPrincipal(c, name) : { error: 'Type a name' };
    if ('error' in principal) return c.redirect(`${back}${query({ error: principal.error })}`, 303);
    const result = await c
      .get('client')
      .call('POST', `/apps/${encodeURIComponent(id)}/assignments`, { principalId: principal.id });
    const outcome = result.ok
      ? { notice: `Assigned ${principal.type} ${principal.label}` }
      : { error: describeProblem(result.problem) };
    return c.redirect(`${back}${query(outcome)}`, 303);
  });

  router.post('/console/apps/:id/assignments/remove', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const principalId = typeof form.principalId === 'string' ? form.principalId : '';
    const result = await c
      .get('client')
      .call('DELETE', `/apps/${encodeURIComponent(id)}/assignments/${encodeURIComponent(principalId)}`);
    const outcome = result.ok ? { notice: 'Assignment removed' } : { error: describeProblem(result.problem) };
    return c.redirect(`${backUrl(c, id)}${query(outcome)}`, 303);
  });
}
