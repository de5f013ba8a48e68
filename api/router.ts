// Every router is made here so they all share the app's context type and the one validation hook.
import { OpenAPIHono } from '@hono/zod-openapi';
import { validationHook } from './validation.ts';

export interface AppEnv {
  Variables: { requestId: string };
}

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
