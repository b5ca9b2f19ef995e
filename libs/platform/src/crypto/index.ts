export * from './secret-keyring';
export * from './secrets-config';
export * from './rotate-secrets';
