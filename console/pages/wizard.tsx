/** @jsxImportSource hono/jsx */
// New app wizard: 1. template, name, target and its credentials (a bearer token or OAuth client
// credentials) → 2. test connection → 3. assign → 4. start.
// Step 1 creates the app (POST /apps); the other steps are the app's own actions on one page.
import { describeProblem, query } from '../api-client.ts';
import type { ConsoleRouter } from '../app.tsx';
import { ActionButton, CsrfField, Layout } from '../layout.tsx';
import type { AppView, Template } from '../types.ts';
import { AssignmentsSection } from './assignments.tsx';
import { TargetAuthFields, targetAuthOf } from './target-auth.tsx';

function TemplateForm({
  templates,
  csrf,
  values,
}: {
  templates: Template[];
  csrf: string;
  values: Record<string, string>;
}) {
  return (
    <form method="post" action="/console/new" class="card grid">
      <CsrfField csrf={csrf} />
      <fieldset>
        <legend>1. Template</legend>
        {templates.map((t, i) => (
          <div>
            <input
              type="radio"
              id={`t-${t.id}`}
              name="template"
              value={t.id}
              checked={values.template ? values.template === t.id : i === 0}
            />{' '}
            <label for={`t-${t.id}`}>
              <strong>{t.name}</strong> {t.description ? <span class="sub">{t.description}</span> : null}
            </label>
          </div>
        ))}
      </fieldset>
      <label for="w-name">App name</label>
      <input id="w-name" name="name" required value={values.name ?? ''} />
      <label for="w-url">Target SCIM URL</label>
      <input
        id="w-url"
        name="url"
        type="url"
        required
        placeholder="https://app.example.com/scim/v2"
        value={values.url ?? ''}
      />
      <TargetAuthFields idPrefix="w" />
      <button type="submit" class="primary">
        Create app
      </button>
    </form>
  );
}

export function wizardRoutes(router: ConsoleRouter) {
  router.get('/console/new', async (c) => {
    const gallery = await c.get('client').need<{ items: Template[] }>('/gallery');
    return c.html(
      <Layout title="New app" me={c.get('me')} csrf={c.get('csrf')}>
        <TemplateForm templates={gallery.items} csrf={c.get('csrf')} values={{}} />
      </Layout>,
    );
  });

  router.post('/console/new', async (c) => {
    const form = await c.req.parseBody();
    const values = Object.fromEntries(
      ['template', 'name', 'url'].map((k) => [k, typeof form[k] === 'string' ? (form[k] as string).trim() : '']),
    );
    const auth = targetAuthOf(form, 'create');
    const client = c.get('client');
    const created =
      'error' in auth
        ? null
        : await client.call<AppView>('POST', '/apps', {
            name: values.name,
            template: values.template,
            target: { url: values.url, ...auth },
          });
    if (created?.ok) return c.redirect(`/console/new/${encodeURIComponent(created.data.id)}`, 303);
    const error = created ? describeProblem(created.problem) : String(auth.error);
    const gallery = await client.need<{ items: Template[] }>('/gallery');
    return c.html(
      <Layout title="New app" me={c.get('me')} csrf={c.get('csrf')} error={error}>
        <TemplateForm templates={gallery.items} csrf={c.get('csrf')} values={values} />
      </Layout>,
      400,
    );
  });

  router.get('/console/new/:id', async (c) => {
    const id = c.req.param('id');
    const app = await c.get('client').need<AppView>(`/apps/${encodeURIComponent(id)}`);
    const csrf = c.get('csrf');
    const url = `/console/apps/${encodeURIComponent(id)}`;
    return c.html(
      <Layout
        title={`Set up ${app.name}`}
        me={c.get('me')}
        csrf={csrf}
        notice={c.req.query('notice')}
        error={c.req.query('error')}
      >
        <p>
          Created from {app.template}, target <code>{app.target.url}</code>.
        </p>
        <section aria-labelledby="w2">
          <h2 id="w2">2. Test connection</h2>
          <ActionButton
            action={`${url}/test-connection${query({ back: 'setup' })}`}
            label="Test connection"
            csrf={csrf}
          />
        </section>
        <AssignmentsSection c={c} appId={id} back="setup" />
        <section aria-labelledby="w4">
          <h2 id="w4">4. Start provisioning</h2>
          <p>The first cycle is initial: it matches and creates every assigned user and group.</p>
          <ActionButton action={`${url}/actions/start`} label="Start provisioning" kind="primary" csrf={csrf} />
        </section>
      </Layout>,
    );
  });
}
