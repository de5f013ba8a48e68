export * from './matchFilter.ts';
export * from './classifyMatch.ts';
export * from './targetIndex.ts';
export * from './listedKeys.ts';
export * from './orphanMatch.ts';
