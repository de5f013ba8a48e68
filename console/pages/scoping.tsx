/** @jsxImportSource hono/jsx */
// The scoping-filter editor of one object type and its live count: while an admin types, htmx posts
// the draft form to `…/scope/count`, which asks the API (POST /apps/{id}/scope/count) how many
// directory objects the draft selects — before anything is saved. Saving PATCHes the app.
import { SCOPING_OPERATORS, UNARY_SCOPING_OPERATORS } from '../../engine/config/vocabulary.ts';
import { describeProblem } from '../api-client.ts';
import type { ConsoleRouter } from '../app.tsx';
import { CsrfField } from '../layout.tsx';
import type { AppView, ScopingFilter } from '../types.ts';
import { apiApp, appUrl, backTo } from './app.tsx';
import { formText, type Form } from './form.ts';

export type ObjectType = 'user' | 'group';

interface ScopeCount {
  scope: 'assigned' | 'all';
  user: { inScope: number; passFilters: number; active: number };
  group: { inScope: number; passFilters: number; active: number } | null;
}

/** Blank rows the form offers for a new clause and a new filter (empty rows are ignored). */
const BLANK_CLAUSES = 1;

function ClauseRow({
  f,
  j,
  clause,
  readOnly,
}: {
  f: number;
  j: number;
  clause?: ScopingFilter['clauses'][number];
  readOnly: boolean;
}) {
  const name = (field: string) => `c-${f}-${j}-${field}`;
  const label = (what: string) => `Filter ${f + 1}, clause ${j + 1}: ${what}`;
  return (
    <tr>
      <td>
        <input
          name={name('attribute')}
          aria-label={label('attribute')}
          value={clause?.attribute ?? ''}
          disabled={readOnly}
        />
      </td>
      <td>
        <select name={name('operator')} aria-label={label('operator')} disabled={readOnly}>
          {SCOPING_OPERATORS.map((op) => (
            <option value={op} selected={op === (clause?.operator ?? 'EQUALS')}>
              {op}
            </option>
          ))}
        </select>
      </td>
      <td>
        <input name={name('value')} aria-label={label('value')} value={clause?.value ?? ''} disabled={readOnly} />
      </td>
    </tr>
  );
}

function FilterFieldset({ f, filter, readOnly }: { f: number; filter?: ScopingFilter; readOnly: boolean }) {
  const clauses = filter?.clauses ?? [];
  const blanks = readOnly ? 0 : BLANK_CLAUSES;
  return (
    <fieldset class="filter">
      <legend>{filter ? `Filter ${f + 1}` : `New filter ${f + 1}`}</legend>
      <label for={`f-${f}-title`}>Title</label>{' '}
      <input id={`f-${f}-title`} name={`f-${f}-title`} value={filter?.title ?? ''} disabled={readOnly} />
      <div class="scroll" tabindex={0} role="region" aria-label={`Clauses of filter ${f + 1} (scrolls)`}>
        <table>
          <caption class="sr-only">Clauses of filter {f + 1} (all must pass)</caption>
          <thead>
            <tr>
              <th scope="col">Source attribute</th>
              <th scope="col">Operator</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {[...clauses, ...Array.from({ length: blanks }, () => undefined)].map((clause, j) => (
              <ClauseRow f={f} j={j} clause={clause} readOnly={readOnly} />
            ))}
          </tbody>
        </table>
      </div>
    </fieldset>
  );
}

/** The editor: the app's scope, the filters of one object type, the count, and Save. */
export function ScopingEditor({
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
  const filters = app.scopingFilters[type] ?? [];
  const url = appUrl(app.id);
  const countUrl = `${url}/scope/count/${type}`;
  // A viewer's disabled fields are not sent: the count is then of the saved configuration.
  const live = readOnly
    ? { 'hx-post': countUrl, 'hx-trigger': 'load' }
    : {
        'hx-post': countUrl,
        'hx-trigger': 'load, input delay:400ms from:#scoping-form, change from:#scoping-form',
        'hx-include': '#scoping-form',
      };
  return (
    <section aria-labelledby="scoping-h">
      <h2 id="scoping-h">Scope of {type}s</h2>
      <p class="sub">
        Filters are ORed; the clauses of one filter are ANDed. Clear a clause's attribute to remove it. Objects must
        also be assigned (unless the scope is every user and group) and active.
      </p>
      <form id="scoping-form" method="post" action={`${url}/scope`} class="card">
        <CsrfField csrf={csrf} />
        <input type="hidden" name="objectType" value={type} />
        {readOnly ? null : <input type="hidden" name="draft" value="1" />}
        <fieldset>
          <legend>Who is in scope</legend>
          {(['assigned', 'all'] as const).map((scope) => (
            <div>
              <input
                type="radio"
                id={`scope-${scope}`}
                name="scope"
                value={scope}
                checked={app.settings.scope === scope}
                disabled={readOnly}
              />{' '}
              <label for={`scope-${scope}`}>
                {scope === 'assigned' ? 'Only assigned users and groups' : 'Every user and group in the directory'}
              </label>
            </div>
          ))}
        </fieldset>
        {[...filters, ...(readOnly ? [] : [undefined])].map((filter, f) => (
          <FilterFieldset f={f} filter={filter} readOnly={readOnly} />
        ))}
        <p id="scope-count" role="status" aria-live="polite" {...live}>
          Counting…
        </p>
        {readOnly ? null : (
          <button type="submit" class="primary">
            Save scope
          </button>
        )}
      </form>
    </section>
  );
}

/** The draft filters of the form, in the form's order: clauses with an attribute, filters with a clause. */
export function scopingFromForm(form: Form): ScopingFilter[] {
  const rows = Object.keys(form)
    .map((key) => /^c-(\d+)-(\d+)-attribute$/.exec(key))
    .filter((match) => match !== null && formText(form, match[0]) !== '')
    .map((match) => [Number(match![1]), Number(match![2])] as const)
    .sort(([f1, j1], [f2, j2]) => f1 - f2 || j1 - j2);
  const filters = new Map<number, ScopingFilter>();
  for (const [f, j] of rows) {
    const operator = formText(form, `c-${f}-${j}-operator`) || 'EQUALS';
    const unary = (UNARY_SCOPING_OPERATORS as readonly string[]).includes(operator);
    const clause = {
      attribute: formText(form, `c-${f}-${j}-attribute`),
      operator,
      ...(unary ? {} : { value: formText(form, `c-${f}-${j}-value`) }),
    };
    const filter = filters.get(f) ?? { title: formText(form, `f-${f}-title`), clauses: [] };
    filter.clauses.push(clause);
    filters.set(f, filter);
  }
  return [...filters.values()];
}

const objectTypeOf = (form: Form): ObjectType => (formText(form, 'objectType') === 'group' ? 'group' : 'user');

function countText(result: ScopeCount, type: ObjectType): string {
  const count = result[type];
  if (!count) return `This app does not provision ${type}s.`;
  const scope = result.scope === 'all' ? 'every active' : 'the assigned active';
  return `${count.inScope} of ${count.active} active ${type}s in scope (${scope} ${type}s passing the filters); ${count.passFilters} pass the filters alone.`;
}

export function scopingRoutes(router: ConsoleRouter) {
  router.post('/console/apps/:id/scope/count/:type', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const type: ObjectType = c.req.param('type') === 'group' ? 'group' : 'user';
    // Without the editor's draft (a viewer's page) the saved configuration is counted.
    const draft =
      formText(form, 'draft') === '1'
        ? {
            scopingFilters: { [type]: scopingFromForm(form) },
            ...(formText(form, 'scope') ? { scope: formText(form, 'scope') } : {}),
          }
        : {};
    const result = await c.get('client').call<ScopeCount>('POST', `${apiApp(id)}/scope/count`, draft);
    if (!result.ok) return c.html(<span class="problem">Not counted: {describeProblem(result.problem)}</span>);
    return c.html(<>{countText(result.data, type)}</>);
  });

  router.post('/console/apps/:id/scope', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const type = objectTypeOf(form);
    const scope = formText(form, 'scope');
    const result = await c.get('client').call('PATCH', apiApp(id), {
      scopingFilters: { [type]: scopingFromForm(form) },
      ...(scope ? { settings: { scope } } : {}),
    });
    return backTo(
      c,
      mappingsUrl(id, type),
      result.ok ? { notice: `Scope of ${type}s saved` } : { error: describeProblem(result.problem) },
    );
  });
}

export const mappingsUrl = (id: string, type: ObjectType) => `${appUrl(id)}/mappings/${type}`;
