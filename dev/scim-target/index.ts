export { startScimTarget, type ScimTarget, type ScimTargetOptions, type ScimTargetStats } from './server.ts';
