// HTTP for the Entra source: an app-only token from the client-credentials grant, authenticated
// with the client secret or a certificate's signed client assertion (cached until it expires), GETs of Graph pages with that token, waits on 429/503 `Retry-After` (capped), and
// every answer Ferry cannot use turned into a typed error naming the source, never the secret.
// Connections obey the outbound address policy (scim/address-policy.ts); the secret and the token
// are sent only to https URLs, or to plain http on loopback when the policy allows loopback.
import { Agent } from 'undici';
import { ConfigurationError, FerryError, PermanentError, TransientError } from '../engine/errors.ts';
import { AddressNotAllowedError, policyConnector, type AddressPolicy, type Resolver } from '../scim/address-policy.ts';
import { assertSendableUrl } from '../scim/transport.ts';
import { CLIENT_ASSERTION_TYPE, clientAssertion, type CertificateReference } from './client-assertion.ts';

export const DEFAULT_AUTHORITY = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';
/** The longest `Retry-After` waited out in process; a longer one fails the run as transient. */
export const MAX_RETRY_AFTER_SECONDS = 30;
// At most 3 waits of 30 s a request: under the import activity's 2-minute heartbeat timeout (pages heartbeat).
const ATTEMPTS = 4;
/** A token is renewed this long before Entra says it expires. */
const TOKEN_MARGIN_MS = 60_000;

export interface GraphClientOptions {
  sourceId: string;
  tenantId: string;
  clientId: string;
  /** The stored secret: the client secret, or, with `certificate`, the certificate's PEM private key. */
  clientSecret: string | null;
  /** Certificate credentials: the token request carries a signed client assertion instead of the secret. */
  certificate?: CertificateReference;
  authority?: string;
  graphUrl?: string;
  policy: AddressPolicy;
  resolve?: Resolver;
  timeoutMs?: number;
  /** Waits (tests may stand one in). */
  sleep?: (ms: number) => Promise<void>;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown> | null;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');
const header = (headers: Answer['headers'], name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Seconds of a `Retry-After` header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

export class GraphClient {
  readonly graphBase: string;
  private readonly tokenUrl: URL;
  private readonly agent: Agent;
  private readonly sleep: (ms: number) => Promise<void>;
  private token: { value: string; renewAt: number } | null = null;

  constructor(private readonly options: GraphClientOptions) {
    this.graphBase = trimSlash(options.graphUrl ?? DEFAULT_GRAPH_URL);
    const authority = trimSlash(options.authority ?? DEFAULT_AUTHORITY);
    this.tokenUrl = new URL(`${authority}/${encodeURIComponent(options.tenantId)}/oauth2/v2.0/token`);
    const loopback = options.policy.allowLoopback;
    assertSendableUrl(this.tokenUrl, loopback, `Entra source ${options.sourceId}: authority`);
    assertSendableUrl(new URL(this.graphBase), loopback, `Entra source ${options.sourceId}: graphUrl`);
    const timeout = options.timeoutMs ?? 30_000;
    this.agent = new Agent({
      connect: policyConnector({ policy: options.policy, timeoutMs: timeout, resolve: options.resolve }),
      headersTimeout: timeout,
      bodyTimeout: timeout,
      maxResponseSize: 64 * 1024 * 1024,
    });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private get name() {
    return `Entra source ${this.options.sourceId}`;
  }

  private async send(url: URL, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }) {
    try {
      const response = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: init.method,
        headers: init.headers,
        body: init.body,
      });
      const text = await response.body.text();
      let json: Record<string, unknown> | null = null;
      try {
        json = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      } catch {
        json = null;
      }
      return { status: response.statusCode, headers: response.headers, json } satisfies Answer;
    } catch (error) {
      if (
        error instanceof AddressNotAllowedError ||
        (error as { code?: unknown })?.code === 'FERRY_ADDRESS_NOT_ALLOWED'
      )
        throw new ConfigurationError(`${this.name}: ${(error as Error).message}`, {
          code: 'AddressNotAllowed',
          cause: error,
        });
      const message = error instanceof Error ? error.message : String(error);
      throw new TransientError(`${this.name}: ${url.origin} could not be reached: ${message}`, {
        code: 'ServiceUnavailable',
        cause: error,
      });
    }
  }

  /**
   * Sends, waiting out 429 and 5xx answers: `Retry-After` when given (at most
   * MAX_RETRY_AFTER_SECONDS), else 1, 2, 4… seconds. The last such answer is returned.
   */
  private async sendRetrying(url: URL, init: () => Parameters<GraphClient['send']>[1]): Promise<Answer> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.send(url, init());
      const busy = answer.status === 429 || answer.status >= 500;
      if (!busy || attempt === ATTEMPTS) return answer;
      const asked = retryAfterSeconds(header(answer.headers, 'retry-after'));
      if (asked !== null && asked > MAX_RETRY_AFTER_SECONDS) return answer;
      await this.sleep((asked ?? 2 ** (attempt - 1)) * 1000);
    }
  }

  /** An access token for Graph, from the cache while it is valid. */
  async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    const { clientId, clientSecret, tenantId, certificate } = this.options;
    const field = certificate ? 'privateKey' : 'clientSecret';
    if (clientSecret === null)
      throw new ConfigurationError(`${this.name} has no ${field}: set one`, { code: 'Unauthorized' });
    // A fresh assertion (own jti, nbf now) for every request, retries included.
    const body = () =>
      new URLSearchParams({
        client_id: clientId,
        ...(certificate
          ? {
              client_assertion_type: CLIENT_ASSERTION_TYPE,
              client_assertion: this.assertion(clientSecret, certificate),
            }
          : { client_secret: clientSecret }),
        grant_type: 'client_credentials',
        scope: `${new URL(this.graphBase).origin}/.default`,
      }).toString();
    const answer = await this.sendRetrying(this.tokenUrl, () => ({
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: body(),
    }));
    const token = answer.json?.access_token;
    if (answer.status === 200 && typeof token === 'string') {
      const lifetime = Number(answer.json?.expires_in ?? 3599) * 1000;
      this.token = { value: token, renewAt: Date.now() + Math.max(0, lifetime - TOKEN_MARGIN_MS) };
      return token;
    }
    if (answer.status === 429 || answer.status >= 500) throw this.busy(answer, 'the token endpoint');
    const code = typeof answer.json?.error === 'string' ? answer.json.error : `HTTP ${answer.status}`;
    // Entra's error_description begins with its AADSTS number (e.g. AADSTS700027: the assertion's
    // signature or certificate); the number says what failed and holds nothing secret.
    const described = typeof answer.json?.error_description === 'string' ? answer.json.error_description : '';
    const aadsts = /^AADSTS\d+/.exec(described)?.[0];
    const check = certificate
      ? 'check tenantId, clientId, privateKey and the certificate (it must be uploaded to the app registration)'
      : 'check tenantId, clientId and clientSecret';
    throw new ConfigurationError(
      `${this.name}: the token endpoint refused client ${clientId} of tenant ${tenantId} (${code}${aadsts ? `, ${aadsts}` : ''}): ${check}`,
      { code: 'Unauthorized', status: answer.status },
    );
  }

  /** A signed client assertion; a key that cannot sign is a configuration error naming the field, never the key. */
  private assertion(privateKey: string, certificate: CertificateReference): string {
    try {
      return clientAssertion({
        clientId: this.options.clientId,
        tokenUrl: this.tokenUrl.toString(),
        privateKey,
        ...certificate,
      });
    } catch {
      throw new ConfigurationError(`${this.name}: the privateKey or certificate could not sign a client assertion`, {
        code: 'Unauthorized',
      });
    }
  }

  private busy(answer: Answer, what: string): TransientError {
    const seconds = retryAfterSeconds(header(answer.headers, 'retry-after'));
    return new TransientError(
      `${this.name}: ${what} answered ${answer.status}${seconds ? ` (retry after ${seconds} s)` : ''}`,
      {
        code: answer.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable',
        status: answer.status,
        ...(seconds !== null ? { retryAfterMs: seconds * 1000 } : {}),
      },
    );
  }

  /** GETs one Graph page. A link must stay on the configured Graph origin: the token goes nowhere else. */
  async get(link: string): Promise<Record<string, unknown>> {
    const url = new URL(link);
    if (url.origin !== new URL(this.graphBase).origin)
      throw new PermanentError(`${this.name}: Graph answered a link to another origin (${url.origin}); not followed`, {
        code: 'InvalidDomain',
      });
    let answer: Answer | null = null;
    for (let renewed = 0; renewed < 2; renewed++) {
      const token = await this.accessToken();
      answer = await this.sendRetrying(url, () => ({
        method: 'GET',
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      }));
      if (answer.status !== 401) break;
      this.token = null; // revoked or expired early: one new token, then it is a configuration error
    }
    if (answer!.status === 200 && answer!.json) return answer!.json;
    throw this.graphError(answer!);
  }

  private graphError(answer: Answer): FerryError {
    const error = answer.json?.error as { code?: unknown; message?: unknown } | undefined;
    const detail = typeof error?.message === 'string' ? `: ${error.message.slice(0, 300)}` : '';
    const status = answer.status;
    if (status === 429 || status >= 500) return this.busy(answer, 'Microsoft Graph');
    if (status === 401 || status === 403)
      return new ConfigurationError(
        `${this.name}: Microsoft Graph refused the app (${status}${detail}); it needs the application permissions User.Read.All and GroupMember.Read.All`,
        { code: 'Unauthorized', status },
      );
    if (status === 410)
      return new PermanentError(
        `${this.name}: Microsoft Graph no longer knows the delta link (410${detail}); a full import starts a new one`,
        { code: 'NotFound', status },
      );
    if (status === 400)
      return new ConfigurationError(
        `${this.name}: Microsoft Graph refused the query (400${detail}); check userSelect and groupSelect`,
        {
          code: 'BadRequest',
          status,
        },
      );
    return new PermanentError(`${this.name}: Microsoft Graph answered ${status}${detail}`, { code: 'Unknown', status });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
