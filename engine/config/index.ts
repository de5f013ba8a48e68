export * from './schema.ts';
export * from './template.ts';
export * from './parseAppConfig.ts';
export * from './connectorLimitations.ts';
export * from './withSecrets.ts';
