export * from './create-redis';
