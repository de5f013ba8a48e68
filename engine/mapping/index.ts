export * from './scimPath.ts';
export * from './coerce.ts';
export * from './sourceAttributes.ts';
export * from './compileMappings.ts';
