export * from './create-database';
export * from './migrator';
