// Public surface of the SCIM client layer; activities/ import from here.
export { createScimClient } from './client.ts';
export { bulkResultError } from './bulk.ts';
export type {
  BulkLimits,
  BulkOperation,
  BulkOptions,
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
export {
  ADDRESS_NOT_ALLOWED_MESSAGE,
  AddressNotAllowedError,
  classifyAddress,
  isAddressAllowed,
  parseNetwork,
  parseNetworkList,
  type AddressCategory,
  type AddressPolicy,
  type NetworkRange,
  type Resolver,
} from './address-policy.ts';
export type { OutboundOptions } from './transport.ts';
export {
  SharedRateSchedule,
  type RateSlotSource,
  type SharedRateScheduleOptions,
  type SharedSlotRun,
} from './shared-rate-schedule.ts';
export { classifyScimFailure, parseRetryAfter, type ScimFailure } from './classify.ts';
export { eqFilter, quoteFilterValue } from './filter.ts';
export { uriComponent } from './uri.ts';
export { applyPatch, toPatchOpMessage } from './patch.ts';
