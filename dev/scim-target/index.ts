export {
  startScimTarget,
  type ScimTarget,
  type ScimTargetOptions,
  type ScimTargetStats,
  type ScimTargetWrite,
} from './server.ts';
