// Every router is made here so they all share the app's context type and the one validation hook.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Principal } from './auth.ts';
import { validationHook } from './validation.ts';

export interface AppEnv {
  /** `principal`: the calling key, set by authentication (absent on public routes). */
  Variables: { requestId: string; principal?: Principal };
}

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
