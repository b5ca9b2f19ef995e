export * from './create-logger';
export * from './flush-logger';
