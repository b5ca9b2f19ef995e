// The public API of @ittd/platform. Test helpers live in @ittd/platform/testing.
import './http/request-types';

export * from './config';
export * from './logging';
export * from './metrics';
export * from './validation';
export * from './http';
export * from './health';
export * from './lifecycle';
export * from './db';
export * from './redis';
export * from './service';

// --- security: secrets at rest, partner calls ---
export * from './crypto';
export * from './outbound';

// --- jobs and schedules ---
export * from './jobs';
export * from './schedule';

// --- events (outbox, relay, subscriptions) ---
export * from './events';
