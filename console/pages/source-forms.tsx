/** @jsxImportSource hono/jsx */
// Creating a source from the console (keys whose role holds sources:write): a csv source (uploaded
// snapshots, or a file the worker reads), an ldap source (its bind password is write-only: the
// field is always empty, even when a refused form comes back) and a scim source, whose token and
// SCIM URL are shown once on the page answering the creation — never in a URL, never again.
import { query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { CsrfField, Layout, can } from '../layout.tsx';
import type { Source } from '../types.ts';
import { Field, emptyState, refusal, type FormState } from './directory-forms.tsx';
import { formText, type Form } from './form.ts';
import { SOURCES, sourceUrl } from './urls.ts';

const TYPES = ['csv', 'ldap', 'scim'] as const;
type SourceType = (typeof TYPES)[number];
const TYPE_LABELS: Record<SourceType, string> = {
  csv: 'CSV (an HR export)',
  ldap: 'LDAP or Active Directory',
  scim: 'SCIM inbound (an identity provider pushes)',
};

/** The fields of each type, with labels; the API's names are the keys (their complaints land there). */
const FIELDS = {
  common: [
    { name: 'name', label: 'Name', required: true },
    { name: 'intervalMinutes', label: 'Minutes between imports (default 60)', type: 'number' },
  ],
  csv: [
    { name: 'path', label: 'Path of the file on the worker (origin “a file the worker reads”)' },
    { name: 'idColumn', label: 'Column of the stable id (default id)' },
    { name: 'upnColumn', label: 'Column of the user principal name (default userPrincipalName)' },
  ],
  ldap: [
    { name: 'url', label: 'Server URL (ldap:// or ldaps://)', required: true },
    { name: 'bindDn', label: 'Bind DN', required: true },
    { name: 'baseDn', label: 'Base DN', required: true },
    { name: 'userFilter', label: 'User filter (optional)' },
    { name: 'groupFilter', label: 'Group filter (optional)' },
  ],
} as const;

const allFields = (type: SourceType) => [
  ...FIELDS.common,
  ...(type === 'csv' ? FIELDS.csv : type === 'ldap' ? FIELDS.ldap : []),
  ...(type === 'ldap' ? [{ name: 'bindPassword', label: 'Bind password' }] : []),
  ...(type === 'csv' ? [{ name: 'columns', label: 'Other columns' }] : []),
];

const typeOf = (value: string | undefined): SourceType =>
  (TYPES as readonly string[]).includes(value ?? '') ? (value as SourceType) : 'csv';

/** A whole number as a number; anything else as typed, so the API names the field. */
const numberOr = (text: string): number | string | undefined =>
  text === '' ? undefined : /^\d+$/.test(text) ? Number(text) : text;

/** `attribute=column` lines as the csv source's columns. */
function columnLines(text: string): Record<string, string> {
  const columns: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const [attribute, ...rest] = line.split('=');
    const column = rest.join('=').trim();
    if (attribute.trim() && column) columns[attribute.trim()] = column;
  }
  return columns;
}

/** The posted form's values (never the password) and the API body they make. */
export function postedSource(
  type: SourceType,
  form: Form,
): { values: Record<string, string>; body: Record<string, unknown> } {
  const names = [
    'name',
    'intervalMinutes',
    'path',
    'origin',
    'idColumn',
    'upnColumn',
    'columns',
    'url',
    'bindDn',
    'baseDn',
    'profile',
    'userFilter',
    'groupFilter',
  ];
  const values: Record<string, string> = Object.fromEntries(names.map((n) => [n, formText(form, n)]));
  values.startTls = formText(form, 'startTls') === 'true' ? 'true' : '';
  const body: Record<string, unknown> = { type, name: values.name };
  if (type !== 'scim') body.intervalMinutes = numberOr(values.intervalMinutes);
  if (type === 'csv') {
    const columns = columnLines(values.columns);
    if (values.idColumn) columns.id = values.idColumn;
    if (values.upnColumn) columns.userPrincipalName = values.upnColumn;
    if (values.origin === 'path') body.path = values.path || undefined;
    else body.origin = 'upload';
    if (Object.keys(columns).length > 0) body.columns = columns;
  }
  if (type === 'ldap') {
    Object.assign(body, {
      url: values.url,
      bindDn: values.bindDn,
      baseDn: values.baseDn,
      profile: values.profile === 'activeDirectory' ? 'activeDirectory' : 'openldap',
      startTls: values.startTls === 'true',
      userFilter: values.userFilter || undefined,
      groupFilter: values.groupFilter || undefined,
      bindPassword: formText(form, 'bindPassword') || undefined,
    });
  }
  return { values, body: JSON.parse(JSON.stringify(body)) as Record<string, unknown> };
}

function CsvFields({ state }: { state: FormState }) {
  const upload = state.values.origin !== 'path';
  return (
    <>
      <fieldset>
        <legend>Where the export comes from</legend>
        <input type="radio" id="s-origin-upload" name="origin" value="upload" checked={upload} />{' '}
        <label for="s-origin-upload">Uploaded (from this console or POST …/snapshots)</label>
        <br />
        <input type="radio" id="s-origin-path" name="origin" value="path" checked={!upload} />{' '}
        <label for="s-origin-path">A file the worker reads</label>
      </fieldset>
      {FIELDS.csv.map((f) => (
        <Field id={`s-${f.name}`} name={f.name} label={f.label} state={state} />
      ))}
      <label for="s-columns">Other columns (attribute=column, one a line)</label>
      <textarea id="s-columns" name="columns" rows={3}>
        {state.values.columns ?? ''}
      </textarea>
    </>
  );
}

function LdapFields({ state }: { state: FormState }) {
  const error = state.errors.bindPassword;
  return (
    <>
      {FIELDS.ldap.slice(0, 2).map((f) => (
        <Field id={`s-${f.name}`} name={f.name} label={f.label} state={state} required />
      ))}
      <label for="s-bindPassword">Bind password (write-only: never shown again)</label>
      <span class="field">
        <input
          id="s-bindPassword"
          name="bindPassword"
          type="password"
          autocomplete="new-password"
          value=""
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 's-bindPassword-error' : undefined}
        />
        {error ? (
          <span id="s-bindPassword-error" class="field-problem">
            {error}
          </span>
        ) : null}
      </span>
      {FIELDS.ldap.slice(2).map((f) => (
        <Field id={`s-${f.name}`} name={f.name} label={f.label} state={state} required={'required' in f} />
      ))}
      <label for="s-profile">Profile</label>
      <select id="s-profile" name="profile">
        <option value="openldap" selected={state.values.profile !== 'activeDirectory'}>
          OpenLDAP (inetOrgPerson, groupOfNames)
        </option>
        <option value="activeDirectory" selected={state.values.profile === 'activeDirectory'}>
          Active Directory
        </option>
      </select>
      <label for="s-startTls">StartTLS (ldap:// only)</label>
      <input id="s-startTls" name="startTls" type="checkbox" value="true" checked={state.values.startTls === 'true'} />
    </>
  );
}

function newSourcePage(c: ConsoleContext, type: SourceType, state: FormState, status: 200 | 400 | 403 | 409 = 200) {
  const csrf = c.get('csrf');
  return c.html(
    <Layout title="New source" me={c.get('me')} csrf={csrf} error={state.error}>
      <p>
        <a href={SOURCES}>All sources</a>
      </p>
      <nav class="tabs" aria-label="Source type">
        {TYPES.map((t) => (
          <a href={`${SOURCES}/new${query({ type: t })}`} aria-current={t === type ? 'page' : undefined}>
            {TYPE_LABELS[t]}
          </a>
        ))}
      </nav>
      <form method="post" action={`${SOURCES}${query({ type })}`} class="card grid">
        <CsrfField csrf={csrf} />
        <Field id="s-name" name="name" label="Name" state={state} required />
        {type !== 'scim' ? (
          <Field
            id="s-intervalMinutes"
            name="intervalMinutes"
            label={FIELDS.common[1].label}
            state={state}
            type="number"
          />
        ) : null}
        {type === 'csv' ? <CsvFields state={state} /> : null}
        {type === 'ldap' ? <LdapFields state={state} /> : null}
        <button type="submit" class="primary">
          Create source
        </button>
      </form>
    </Layout>,
    status,
  );
}

/** A scim source's token and URL, on the page answering its creation: the only time Ferry shows the token. */
function ScimCreatedPage({ c, source }: { c: ConsoleContext; source: Source }) {
  return (
    <Layout title={`Source ${source.name} created`} me={c.get('me')} csrf={c.get('csrf')}>
      <p class="notice" role="status">
        Copy the token now: Ferry keeps only its hash and cannot show it again.
      </p>
      <dl class="steps card">
        <dt>SCIM URL (Tenant URL)</dt>
        <dd>
          <code>{source.scimUrl}</code>
        </dd>
        <dt>Secret token</dt>
        <dd>
          <code id="scim-token">{source.token}</code>
        </dd>
      </dl>
      <p>
        <a href={sourceUrl(source.id)}>Go to the source</a>
      </p>
    </Layout>
  );
}

export function sourceCreateRoutes(router: ConsoleRouter) {
  router.get(`${SOURCES}/new`, (c) => {
    const type = typeOf(c.req.query('type'));
    if (!can(c.get('me'), 'sources:write')) {
      return c.html(
        <Layout title="New source" me={c.get('me')} csrf={c.get('csrf')} error="Your key's role cannot add sources." />,
        403,
      );
    }
    return newSourcePage(c, type, emptyState({ origin: 'upload', profile: 'openldap' }));
  });

  router.post(SOURCES, async (c) => {
    const type = typeOf(c.req.query('type'));
    const { values, body } = postedSource(type, await c.req.parseBody());
    if (!values.name) {
      return newSourcePage(c, type, { values, errors: { name: 'Name: required' }, error: 'Not created: name it' }, 400);
    }
    const result = await c.get('client').call<Source>('POST', '/sources', body);
    if (!result.ok) {
      const status = result.status === 403 || result.status === 409 ? result.status : 400;
      return newSourcePage(c, type, refusal('Not created', result.problem, allFields(type), values), status);
    }
    if (result.data.token) return c.html(<ScimCreatedPage c={c} source={result.data} />, 201);
    return c.redirect(`${sourceUrl(result.data.id)}${query({ notice: `Created source ${result.data.name}` })}`, 303);
  });
}
