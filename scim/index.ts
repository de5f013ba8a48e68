// Public surface of the SCIM client layer; activities/ import from here.
export { createScimClient } from './client.ts';
export type {
  BulkOperation,
  BulkResult,
  ListOptions,
  ListPage,
  MatchAttribute,
  RetryOptions,
  ScimAuth,
  ScimClient,
  ScimClientEvent,
  ScimClientOptions,
  ScimClientStats,
  ScimResourceType,
  ServiceProviderConfig,
  TestConnectionReason,
  TestConnectionResult,
} from './client.ts';
export { classifyScimFailure, parseRetryAfter, type ScimFailure } from './classify.ts';
export { eqFilter, quoteFilterValue } from './filter.ts';
export { applyPatch, toPatchOpMessage } from './patch.ts';
