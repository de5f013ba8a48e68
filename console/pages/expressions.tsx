/** @jsxImportSource hono/jsx */
// The expression tester: an expression and a directory user or group (found by name) → the value,
// or the error with a caret under its position (POST /apps/{id}/expressions/evaluate).
import { describeProblem } from '../api-client.ts';
import type { Child } from 'hono/jsx';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { CsrfField, Layout } from '../layout.tsx';
import type { AppView } from '../types.ts';
import { findPrincipal } from './assignments.tsx';

interface Evaluation {
  ok: boolean;
  value?: unknown;
  ignored?: boolean;
  attributes: string[];
  error?: { kind: string; message: string; position: number };
}

function Result({ expression, result, who }: { expression: string; result: Evaluation; who: string }) {
  if (!result.ok && result.error) {
    return (
      <section class="problem" aria-labelledby="result-h">
        <h2 id="result-h">
          {result.error.kind === 'syntax' ? 'Syntax error' : 'Evaluation error'} at position {result.error.position}
        </h2>
        <pre class="caret">{`${expression}\n${' '.repeat(Math.max(0, result.error.position))}^`}</pre>
        <p>{result.error.message}</p>
      </section>
    );
  }
  return (
    <section class="notice" aria-labelledby="result-h">
      <h2 id="result-h">Result for {who}</h2>
      <pre>{result.ignored ? '(no value: the mapping would send nothing)' : JSON.stringify(result.value)}</pre>
      <p class="sub">Reads: {result.attributes.join(', ') || 'no attribute'}</p>
    </section>
  );
}

export function expressionRoutes(router: ConsoleRouter) {
  const page = async (c: ConsoleContext, children?: Child, error?: string) => {
    const id = c.req.param('id') ?? '';
    const app = await c.get('client').need<AppView>(`/apps/${encodeURIComponent(id)}`);
    const form = c.req.method === 'POST' ? await c.req.parseBody() : {};
    const value = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
    return c.html(
      <Layout title={`Expression tester · ${app.name}`} me={c.get('me')} csrf={c.get('csrf')} error={error ?? null}>
        <p>
          <a href={`/console/apps/${encodeURIComponent(id)}`}>Back to {app.name}</a>
        </p>
        <form method="post" class="card grid">
          <CsrfField csrf={c.get('csrf')} />
          <label for="x-expression">Expression</label>
          <textarea id="x-expression" name="expression" rows={3} required>
            {value('expression')}
          </textarea>
          <label for="x-who">User or group (name)</label>
          <input id="x-who" name="who" required value={value('who')} />
          <button type="submit" class="primary">
            Evaluate
          </button>
        </form>
        {children}
      </Layout>,
    );
  };

  router.get('/console/apps/:id/expressions', (c) => page(c));

  router.post('/console/apps/:id/expressions', async (c) => {
    const form = await c.req.parseBody();
    const expression = typeof form.expression === 'string' ? form.expression : '';
    const who = typeof form.who === 'string' ? form.who.trim() : '';
    const principal = await findPrincipal(c, who);
    if ('error' in principal) return page(c, null, principal.error);
    const result = await c
      .get('client')
      .call<Evaluation>('POST', `/apps/${encodeURIComponent(c.req.param('id'))}/expressions/evaluate`, {
        expression,
        objectId: principal.id,
      });
    if (!result.ok) return page(c, null, describeProblem(result.problem));
    return page(
      c,
      <Result expression={expression} result={result.data} who={`${principal.type} ${principal.label}`} />,
    );
  });
}
