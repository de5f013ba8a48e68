// Deep links into the Temporal Web UI (v2). `<ui>/namespaces/<ns>/workflows/<workflowId>` opens
// the workflow's latest run — the UI looks the run up and redirects — so a link to a job stays
// right across its continue-as-new runs.

/** Where the Temporal Web UI is: TEMPORAL_UI_URL, or the dev server `npm start` started. */
export interface TemporalUi {
  /** e.g. http://127.0.0.1:8233 (no trailing slash) */
  url: string;
  namespace: string;
}

/** The Web UI page of a workflow (its latest run) in the UI's namespace. */
export function temporalUiWorkflowUrl(ui: TemporalUi, workflowId: string): string {
  return `${ui.url.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
