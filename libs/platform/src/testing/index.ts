// Test helpers of @ittd/platform: real Postgres, real Redis, real child processes.
export * from './test-database';
export * from './test-redis';
export * from './spawn-service';
export * from './migration-round-trip';
export * from './tcp-proxy';
export * from './eventually';
