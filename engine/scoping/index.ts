export * from './groupClosure.ts';
export * from './operators.ts';
export * from './evaluateScope.ts';
