export * from './secret-keyring';
export * from './secrets-config';
export * from './rotate-secrets';
export * from './unsealed-secrets-check';
