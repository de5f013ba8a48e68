export * from './diffResource.ts';
export * from './desiredHash.ts';
export * from './planObject.ts';
export * from './planGroupMembers.ts';
export * from './exportedValues.ts';
export * from './explainObject.ts';
export * from './groupPageRequests.ts';
export * from './accountDrift.ts';
