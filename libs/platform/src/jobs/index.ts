export * from './job-definition';
export * from './job-events';
export { JobMetrics, type QueueDepth } from './job-metrics';
export type { AttemptFailure } from './job-record';
export * from './job-queue';
export * from './job-worker';
export * from './queue-health';
export { DEFAULT_JOBS_PREFIX, queueKeys, type QueueKeys } from './queue-keys';
