/** @jsxImportSource hono/jsx */
// Importing a file into the directory from the console (directory:write), as POST
// /api/v1/directory/import does: a JSON file ({ users, groups, memberships }) or a CSV file of one
// kind (users, groups or memberships). The answer page shows the counts and each refused row with
// its row number and field; a file the API refuses whole (a CSV syntax error) shows the line it names.
import { describeProblem, query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { CsrfField, Layout, can } from '../layout.tsx';
import type { ImportReport } from '../types.ts';
import { fileBody, fileFormat } from './upload.ts';

const SHOWN_ERRORS = 50;
const KINDS = ['users', 'groups', 'memberships'] as const;

export function ImportForm({ csrf }: { csrf: string }) {
  return (
    <section aria-labelledby="import-h">
      <h2 id="import-h">Import a file</h2>
      <p class="sub">
        JSON: <code>{'{ "users": […], "groups": […], "memberships": […] }'}</code>. CSV: one kind per file, a header row
        naming the attributes. Users match on id, else user principal name; groups on id, else display name.
      </p>
      <form method="post" action="/console/directory/import" enctype="multipart/form-data" class="card grid">
        <CsrfField csrf={csrf} />
        <label for="import-file">File (CSV or JSON)</label>
        <input id="import-file" name="file" type="file" accept=".csv,.json,text/csv,application/json" required />
        <label for="import-kind">A CSV file holds</label>
        <select id="import-kind" name="kind">
          {KINDS.map((k) => (
            <option value={k}>{k}</option>
          ))}
        </select>
        <button type="submit" class="primary">
          Import
        </button>
      </form>
    </section>
  );
}

function ReportTables({ report }: { report: ImportReport }) {
  return (
    <>
      <div class="scroll">
        <table>
          <caption>Imported</caption>
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Received</th>
              <th scope="col">Created</th>
              <th scope="col">Updated</th>
              <th scope="col">Failed</th>
            </tr>
          </thead>
          <tbody>
            {KINDS.map((k) => (
              <tr>
                <th scope="row">{k}</th>
                <td>{report[k].received}</td>
                <td>{report[k].created}</td>
                <td>{report[k].updated}</td>
                <td>{report[k].failed}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {report.errors.length > 0 ? (
        <div class="scroll">
          <table>
            <caption>Rows not imported</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Row</th>
                <th scope="col">Field</th>
                <th scope="col">Problem</th>
              </tr>
            </thead>
            <tbody>
              {report.errors.slice(0, SHOWN_ERRORS).map((e) => (
                <tr>
                  <td>{e.section}</td>
                  <td>{e.row}</td>
                  <td>{e.field}</td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {report.errors.length > SHOWN_ERRORS ? (
        <p class="sub">
          Showing the first {SHOWN_ERRORS} of {report.errors.length} refused rows listed.
        </p>
      ) : null}
    </>
  );
}

function importPage(
  c: ConsoleContext,
  outcome: { report?: ImportReport; notice?: string; error?: string },
  status: 200 | 400 | 403 | 413 | 415 = 200,
) {
  return c.html(
    <Layout
      title="Directory import"
      me={c.get('me')}
      csrf={c.get('csrf')}
      notice={outcome.notice}
      error={outcome.error}
    >
      <p>
        <a href="/console/directory">Directory</a>
      </p>
      {outcome.report ? <ReportTables report={outcome.report} /> : null}
      {can(c.get('me'), 'directory:write') ? <ImportForm csrf={c.get('csrf')} /> : null}
    </Layout>,
    status,
  );
}

const refusedStatus = (status: number): 400 | 403 | 413 | 415 =>
  status === 403 || status === 413 || status === 415 ? status : 400;

export function directoryImportRoutes(router: ConsoleRouter) {
  router.get('/console/directory/import', (c) => importPage(c, {}));

  router.post('/console/directory/import', async (c) => {
    const form = await c.req.parseBody();
    const file = form.file;
    if (!(file instanceof File) || file.size === 0) return importPage(c, { error: 'Not imported: choose a file' }, 400);
    const kind = KINDS.find((k) => k === form.kind) ?? 'users';
    const path = `/directory/import${fileFormat(file) === 'csv' ? query({ type: kind }) : ''}`;
    const result = await c.get('client').send<ImportReport>('POST', path, await fileBody(file));
    if (!result.ok) {
      const error = `Not imported (${file.name}): ${describeProblem(result.problem)}`;
      return importPage(c, { error }, refusedStatus(result.status));
    }
    const failed = KINDS.reduce((n, k) => n + result.data[k].failed, 0);
    const notice = `Imported ${file.name}${failed ? `: ${failed} rows not imported, listed below` : ''}`;
    return importPage(c, { report: result.data, notice });
  });
}
