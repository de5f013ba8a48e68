// Task tokens are opaque to workers; ours are small JSON documents naming what they refer to.
import { invalidArgument } from './errors.ts';
import type { Execution } from './execution.ts';

export type TaskToken =
  | { k: 'wft'; run: string; g: number }
  | { k: 'query'; id: string }
  | { k: 'activity'; run: string; s: number; a: number };

export function runKey(execution: Execution): string {
  return `${execution.namespace}/${execution.workflowId}/${execution.runId}`;
}

export function encodeToken(token: TaskToken): Buffer {
  return Buffer.from(JSON.stringify(token), 'utf8');
}

export function decodeToken(bytes: Uint8Array | undefined | null): TaskToken {
  try {
    const token = JSON.parse(Buffer.from(bytes ?? []).toString('utf8')) as TaskToken;
    if (token && typeof token === 'object' && typeof token.k === 'string') return token;
  } catch {
    // fall through
  }
  throw invalidArgument('malformed task token');
}

/** History page tokens: which run and the next event id to return. */
export interface PageToken {
  run: string;
  next: number;
}

export function encodePageToken(token: PageToken): Buffer {
  return Buffer.from(JSON.stringify(token), 'utf8');
}

export function decodePageToken(bytes: Uint8Array | undefined | null): PageToken | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as PageToken;
  } catch {
    throw invalidArgument('malformed page token');
  }
}
