export * from './create-database';
export * from './migrator';
export * from './ensure-database';
export * from './postgres-errors';
