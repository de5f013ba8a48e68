// How the console talks to Ferry: only through the public HTTP API, with the signed-in person's
// key, in process (the API's own `app.request`, no socket). Whatever the console does, a script
// with the same key can do, and the API's permission checks and audit log apply unchanged.

/** Sends one request to the API (path from `/api/v1/…`, or a whole URL), as the API app's `request` does. */
export type ApiFetch = (path: string, init: RequestInit, env?: unknown) => Promise<Response>;

/** The API's error shape: `{ error: { code, message, details? } }`. */
export interface ApiProblem {
  code: string;
  message: string;
  details?: { path: string; message: string }[];
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; problem: ApiProblem };

export class ApiClient {
  constructor(
    private readonly fetchApi: ApiFetch,
    private readonly apiKey: string,
    /** The browser's connection (passed on, so the API sees the real client address). */
    private readonly env?: unknown,
    /**
     * The address the browser used (`https://ferry.example`): the API builds addresses it answers
     * (a scim source's scimUrl) from the URL it is called on. Without it, `http://localhost`.
     */
    private readonly origin = '',
  ) {}

  call<T>(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<ApiResult<T>> {
    return body === undefined
      ? this.send<T>(method, path, undefined, extraHeaders)
      : this.send<T>(method, path, { text: JSON.stringify(body), type: 'application/json' }, extraHeaders);
  }

  /** A request whose body is sent as is (an uploaded file: `text/csv` or `application/json`). */
  async send<T>(
    method: string,
    path: string,
    body?: { text: string; type: string },
    extraHeaders: Record<string, string> = {},
  ): Promise<ApiResult<T>> {
    const headers: Record<string, string> = {
      ...extraHeaders,
      Authorization: `Bearer ${this.apiKey}`,
      Accept: 'application/json',
    };
    if (body) headers['Content-Type'] = body.type;
    const res = await this.fetchApi(
      `${this.origin}/api/v1${path}`,
      { method, headers, ...(body ? { body: body.text } : {}) },
      this.env,
    );
    const text = await res.text();
    const json: unknown = text ? safeJson(text) : null;
    if (res.ok) return { ok: true, status: res.status, data: json as T };
    const problem = (json as { error?: ApiProblem } | null)?.error ?? {
      code: 'error',
      message: `The API answered ${res.status}`,
    };
    return { ok: false, status: res.status, problem };
  }

  /** A GET answered as is (e.g. a CSV export streamed on to the browser). */
  raw(path: string, accept: string): Promise<Response> {
    return this.fetchApi(
      `${this.origin}/api/v1${path}`,
      { method: 'GET', headers: { Authorization: `Bearer ${this.apiKey}`, Accept: accept } },
      this.env,
    );
  }

  get<T>(path: string): Promise<ApiResult<T>> {
    return this.call<T>('GET', path);
  }

  /** GET that throws on an error answer (pages that cannot render without the data). */
  async need<T>(path: string): Promise<T> {
    const result = await this.get<T>(path);
    if (!result.ok) throw new ConsoleApiError(result.status, result.problem);
    return result.data;
  }
}

export class ConsoleApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ApiProblem,
  ) {
    super(problem.message);
    this.name = 'ConsoleApiError';
  }
}

/** A problem as one line for a person: the message, then each field's complaint. */
export function describeProblem(problem: ApiProblem): string {
  const details = (problem.details ?? []).map((d) => `${d.path}: ${d.message}`);
  return [problem.message, ...details].join(' — ');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
