export * from './create-redis';
export * from './redis-errors';
