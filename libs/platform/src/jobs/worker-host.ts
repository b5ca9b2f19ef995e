import type { Redis } from 'ioredis';
import type { JobEvents } from './job-events';
import type { JobLogger } from './job-logger';
import type { JobMetrics } from './job-metrics';
import type { QueueKeys } from './queue-keys';

/**
 * What a worker needs from the queue that created it: connections, key names, events, metrics and logs.
 * `JobQueue` implements it; the worker depends on this interface only, so the two files do not import each other.
 *
 * @example
 * const worker = new JobWorker(jobQueue, { jobs: [sendMail] }); // a JobQueue is a WorkerHost
 */
export interface WorkerHost {
  /** Connection for the queue scripts (no blocking commands). */
  readonly redis: Redis;
  /** Makes the connection a worker subscribes to wake-ups on. */
  readonly createConnection: () => Redis;
  readonly events: JobEvents;
  readonly metrics: JobMetrics | undefined;
  readonly logger: JobLogger | undefined;
  /** Keys of `queue` (throws on an invalid queue name). */
  keys(queue: string): QueueKeys;
  /** Records that this process uses `queue`, for `stats()` and the depth gauge. */
  useQueue(queue: string): Promise<void>;
}
