/** @jsxImportSource hono/jsx */
// The directory: users or groups, searched by name, a page at a time; a group's members, direct or
// through nesting, with their names.
import { query } from '../api-client.ts';
import type { ConsoleRouter } from '../app.tsx';
import { Layout } from '../layout.tsx';
import type { DirectoryGroup, DirectoryUser, Member, Page } from '../types.ts';

const PAGE_SIZE = 50;
const groupUrl = (id: string) => `/console/directory/groups/${encodeURIComponent(id)}`;

export function directoryRoutes(router: ConsoleRouter) {
  router.get('/console/directory', async (c) => {
    const kind = c.req.query('kind') === 'groups' ? 'groups' : 'users';
    const search = (c.req.query('search') ?? '').trim();
    const page = await c
      .get('client')
      .need<Page<DirectoryUser | DirectoryGroup>>(
        `/directory/${kind}${query({ search, limit: PAGE_SIZE, cursor: c.req.query('cursor') })}`,
      );
    return c.html(
      <Layout title="Directory" me={c.get('me')} csrf={c.get('csrf')}>
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
                    {kind === 'groups' ? <a href={groupUrl(item.id)}>{item.displayName}</a> : (item.displayName ?? '—')}
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
      </Layout>,
    );
  });
  router.get('/console/directory/groups/:id', async (c) => {
    const id = c.req.param('id');
    const nested = c.req.query('nested') === '1';
    const client = c.get('client');
    const [group, page] = await Promise.all([
      client.need<DirectoryGroup>(`/directory/groups/${encodeURIComponent(id)}`),
      client.need<Page<Member>>(
        `/directory/groups/${encodeURIComponent(id)}/members${query({
          transitive: nested ? 'true' : undefined,
          limit: PAGE_SIZE,
          cursor: c.req.query('cursor'),
        })}`,
      ),
    ]);
    return c.html(
      <Layout title={`Group ${group.displayName}`} me={c.get('me')} csrf={c.get('csrf')}>
        <p>
          <a href="/console/directory?kind=groups">All groups</a>
        </p>
        {group.description ? <p>{group.description}</p> : null}
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
        <div class="scroll">
          <table>
            <caption class="sr-only">Members of {group.displayName}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Id</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((member) => (
                <tr>
                  <td>
                    {member.memberType === 'group' ? (
                      <a href={groupUrl(member.memberId)}>{member.displayName ?? member.memberId}</a>
                    ) : (
                      (member.displayName ?? '—')
                    )}
                  </td>
                  <td>{member.memberType}</td>
                  <td>
                    <code>{member.memberId}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {page.items.length === 0 ? <p>No members.</p> : null}
        {page.nextCursor ? (
          <p>
            <a href={`${groupUrl(id)}${query({ nested: nested ? '1' : undefined, cursor: page.nextCursor })}`}>
              Next page
            </a>
          </p>
        ) : null}
      </Layout>,
    );
  });
}
