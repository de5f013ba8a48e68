/** @jsxImportSource hono/jsx */
// Mappings and scope of one app, one object type at a time: the mapping table (source, constant or
// expression → target attribute, matching precedence, apply on create or always) as an editable
// form, and the scoping-filter editor with its live in-scope count. Saving PATCHes the app; the
// API checks the whole configuration and names the field of any problem.
import { TARGET_TYPES } from '../../engine/config/vocabulary.ts';
import { describeProblem } from '../api-client.ts';
import type { ConsoleRouter } from '../app.tsx';
import { CsrfField, Layout, can } from '../layout.tsx';
import type { AppView, Mapping } from '../types.ts';
import { apiApp, appUrl, backTo } from './app.tsx';
import { formText, type Form } from './form.ts';
import { ScopingEditor, mappingsUrl, scopingRoutes, type ObjectType } from './scoping.tsx';

const KINDS = [
  ['direct', 'Attribute'],
  ['constant', 'Constant'],
  ['expression', 'Expression'],
] as const;

const sourceOf = (m: Mapping): string =>
  m.type === 'direct' ? (m.source ?? '') : m.type === 'constant' ? String(m.value ?? '') : (m.expression ?? '');

function MappingRow({ i, mapping, readOnly }: { i: number; mapping?: Mapping; readOnly: boolean }) {
  const name = (field: string) => `m-${i}-${field}`;
  const label = (what: string) => `Mapping ${i + 1}: ${what}`;
  return (
    <tr>
      <td>
        <select name={name('kind')} aria-label={label('kind')} disabled={readOnly}>
          {KINDS.map(([kind, text]) => (
            <option value={kind} selected={kind === (mapping?.type ?? 'direct')}>
              {text}
            </option>
          ))}
        </select>
      </td>
      <td>
        <input
          name={name('source')}
          aria-label={label('source')}
          value={mapping ? sourceOf(mapping) : ''}
          disabled={readOnly}
        />
      </td>
      <td>
        <input
          name={name('target')}
          aria-label={label('target attribute')}
          value={mapping?.target ?? ''}
          disabled={readOnly}
        />
      </td>
      <td>
        <input
          name={name('precedence')}
          aria-label={label('matching precedence')}
          type="number"
          min="1"
          class="short"
          value={mapping?.matchingPrecedence === undefined ? '' : String(mapping.matchingPrecedence)}
          disabled={readOnly}
        />
      </td>
      <td>
        <select name={name('apply')} aria-label={label('apply')} disabled={readOnly}>
          <option value="always" selected={mapping?.apply !== 'create'}>
            always
          </option>
          <option value="create" selected={mapping?.apply === 'create'}>
            on create only
          </option>
        </select>
      </td>
      <td>
        <select name={name('targetType')} aria-label={label('target type')} disabled={readOnly}>
          {TARGET_TYPES.map((t) => (
            <option value={t} selected={t === (mapping?.targetType ?? 'String')}>
              {t}
            </option>
          ))}
        </select>
      </td>
      <td>
        <input
          name={name('default')}
          aria-label={label('default when empty')}
          class="short"
          value={mapping?.default === undefined || mapping.default === null ? '' : String(mapping.default)}
          disabled={readOnly}
        />
      </td>
    </tr>
  );
}

function MappingTable({
  app,
  type,
  csrf,
  readOnly,
}: {
  app: AppView;
  type: ObjectType;
  csrf: string;
  readOnly: boolean;
}) {
  const mappings = app.mappings[type] ?? [];
  return (
    <section aria-labelledby="mappings-h">
      <h2 id="mappings-h">Attribute mappings of {type}s</h2>
      <p class="sub">
        Source: a directory attribute, a constant, or an expression (try it in the{' '}
        <a href={`${appUrl(app.id)}/expressions`}>expression tester</a>). Matching precedence 1, 2, … says which target
        attributes find an existing account, in order. Clear a target to remove its mapping.
      </p>
      <form method="post" action={mappingsUrl(app.id, type)} class="card">
        <CsrfField csrf={csrf} />
        <div class="scroll" tabindex={0} role="region" aria-label={`Attribute mappings of ${type}s (scrolls)`}>
          <table>
            <caption class="sr-only">Attribute mappings of {type}s</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Source</th>
                <th scope="col">Target attribute</th>
                <th scope="col">Matching</th>
                <th scope="col">Apply</th>
                <th scope="col">Type</th>
                <th scope="col">Default</th>
              </tr>
            </thead>
            <tbody>
              {[...mappings, ...(readOnly ? [] : [undefined])].map((mapping, i) => (
                <MappingRow i={i} mapping={mapping} readOnly={readOnly} />
              ))}
            </tbody>
          </table>
        </div>
        {readOnly ? null : (
          <button type="submit" class="primary">
            Save mappings
          </button>
        )}
      </form>
    </section>
  );
}

/** A constant or default typed in a text field, as the target type wants it. */
function typedValue(text: string, targetType: string): string | number | boolean {
  if (targetType === 'Boolean' && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if (targetType === 'Integer' && /^-?\d+$/.test(text)) return Number(text);
  return text;
}

/** The mapping rows of the form, in order; rows without a target are dropped. */
export function mappingsFromForm(form: Form): Mapping[] {
  const rows = Object.keys(form)
    .map((key) => /^m-(\d+)-target$/.exec(key))
    .filter((match) => match !== null && formText(form, match[0]) !== '')
    .map((match) => Number(match![1]))
    .sort((a, b) => a - b);
  return rows.map((i) => {
    const field = (name: string) => formText(form, `m-${i}-${name}`);
    const type = (['direct', 'constant', 'expression'] as const).find((k) => k === field('kind')) ?? 'direct';
    const targetType = field('targetType') || 'String';
    const source = field('source');
    return {
      type,
      target: field('target'),
      ...(type === 'direct'
        ? { source }
        : type === 'constant'
          ? { value: typedValue(source, targetType) }
          : { expression: source }),
      apply: field('apply') === 'create' ? 'create' : 'always',
      targetType,
      ...(field('precedence') ? { matchingPrecedence: Number(field('precedence')) } : {}),
      ...(field('default') ? { default: typedValue(field('default'), targetType) } : {}),
    };
  });
}

const typeParam = (value: string | undefined): ObjectType => (value === 'group' ? 'group' : 'user');

export function mappingRoutes(router: ConsoleRouter) {
  router.get('/console/apps/:id/mappings', (c) => c.redirect(mappingsUrl(c.req.param('id'), 'user'), 303));

  router.get('/console/apps/:id/mappings/:type', async (c) => {
    const id = c.req.param('id');
    const type = typeParam(c.req.param('type'));
    const app = await c.get('client').need<AppView>(apiApp(id));
    const me = c.get('me');
    const csrf = c.get('csrf');
    const readOnly = !can(me, 'apps:write');
    const types: ObjectType[] = app.mappings.group ? ['user', 'group'] : ['user'];
    return c.html(
      <Layout
        title={`Mappings and scope · ${app.name}`}
        me={me}
        csrf={csrf}
        notice={c.req.query('notice')}
        error={c.req.query('error')}
      >
        <p>
          <a href={appUrl(id)}>Back to {app.name}</a>
        </p>
        <nav aria-label="Object types" class="tabs">
          {types.map((t) => (
            <a href={mappingsUrl(id, t)} aria-current={t === type ? 'page' : undefined}>
              {t === 'user' ? 'Users' : 'Groups'}
            </a>
          ))}
        </nav>
        {readOnly ? <p class="sub">Your key's role can read these, not change them.</p> : null}
        <MappingTable app={app} type={type} csrf={csrf} readOnly={readOnly} />
        <ScopingEditor app={app} type={type} csrf={csrf} readOnly={readOnly} />
      </Layout>,
    );
  });

  router.post('/console/apps/:id/mappings/:type', async (c) => {
    const id = c.req.param('id');
    const type = typeParam(c.req.param('type'));
    const form = await c.req.parseBody();
    const result = await c.get('client').call('PATCH', apiApp(id), { mappings: { [type]: mappingsFromForm(form) } });
    return backTo(
      c,
      mappingsUrl(id, type),
      result.ok ? { notice: `Mappings of ${type}s saved` } : { error: describeProblem(result.problem) },
    );
  });

  scopingRoutes(router);
}
