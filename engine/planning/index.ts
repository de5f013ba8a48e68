export * from './diffResource.ts';
export * from './desiredHash.ts';
export * from './planObject.ts';
export * from './planGroupMembers.ts';
