export * from './config-field';
export * from './config-groups';
export * from './describe-config';
export * from './load-config';
