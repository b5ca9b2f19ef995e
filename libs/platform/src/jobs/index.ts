export {
  defineJob,
  retryDelayMs,
  MAX_PRIORITY,
  MIN_PRIORITY,
  type BackoffOptions,
  type JobContext,
  type JobDefinition,
  type JobHandler,
  type JobOptions,
} from './job-definition';
export type { JobLogger } from './job-logger';
export { JobEvents, type JobEventBase, type JobEventMap } from './job-events';
export { JobMetrics, type QueueDepth } from './job-metrics';
export type { AttemptFailure } from './job-record';
export {
  JobPayloadError,
  JobQueue,
  type DeadJob,
  type EnqueueOptions,
  type EnqueueResult,
  type JobQueueOptions,
} from './job-queue';
export { PermanentJobError } from './permanent-job-error';
export { JobWorker, type JobWorkerOptions, type RateLimit } from './job-worker';
export { queueDepthCheck, type QueueDepthCheckOptions } from './queue-health';
export { checkQueueRedis, queueRedisCheck, type QueueRedisFindings } from './queue-redis-check';
export { DEFAULT_JOBS_PREFIX, queueKeys, type QueueKeys } from './queue-keys';
