// On-demand provisioning shows the SCIM requests it made. The SCIM client is shared per app, so the
// requests of one on-demand run are picked out of the client's event stream by async context.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ScimClientEvent } from '../scim/index.ts';

export interface CapturedRequest {
  method: string;
  path: string;
  status: number | null;
  body?: unknown;
}

const capture = new AsyncLocalStorage<CapturedRequest[]>();

/** Runs `fn`, collecting every SCIM request made inside it. */
export async function captureRequests<T>(fn: () => Promise<T>): Promise<{ result: T; requests: CapturedRequest[] }> {
  const requests: CapturedRequest[] = [];
  const result = await capture.run(requests, fn);
  return { result, requests };
}

/** The SCIM client's logger hook. */
export function recordRequestEvent(event: ScimClientEvent): void {
  if (event.type !== 'request') return;
  const requests = capture.getStore();
  if (requests) requests.push({ method: event.method, path: event.path, status: event.status ?? null });
}
