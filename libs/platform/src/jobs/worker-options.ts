import type { JobDefinition } from './job-definition';

/** At most `max` job starts in any sliding window of `intervalMs`, across every worker of the queue. */
export interface RateLimit {
  max: number;
  intervalMs: number;
}

/** Options of a worker; every field but `jobs` has a default. */
export interface JobWorkerOptions {
  /** Jobs this worker runs; it takes from every queue they name. */
  jobs: readonly JobDefinition[];
  /** Handlers running at once in this process, across its queues. Default 10. */
  concurrency?: number;
  /** Most jobs taken per round trip. Default `min(concurrency, 100)`. */
  batchSize?: number;
  /**
   * Jobs taken ahead of free handler slots, so the next batch is already here when slots free up (Redis and
   * handlers then work at the same time). They are leased (and renewed) while they wait, and handed back at
   * once on shutdown. 0 disables. Default `batchSize`. Rate-limited queues never prefetch (a take counts as
   * a start there, so their jobs start on arrival).
   */
  prefetch?: number;
  /** Lease length in ms; renewed every third of it while a handler runs. Default 30,000. */
  leaseMs?: number;
  /** How long `stop()` lets in-flight jobs finish before aborting and handing them back. Default 10,000. */
  shutdownTimeoutMs?: number;
  /** Longest idle wait without a wake-up message (safety net for lost pub/sub messages). Default 5,000. */
  pollIntervalMs?: number;
  /** Rate limits by queue name; every worker of a queue must use the same. */
  rateLimits?: Readonly<Record<string, RateLimit>>;
  /** Lifecycle component name. Default `jobs-worker`. */
  name?: string;
}

/** {@link JobWorkerOptions} with every default applied and every value checked, once. */
export interface ResolvedWorkerOptions {
  readonly name: string;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly prefetch: number;
  readonly leaseMs: number;
  readonly shutdownTimeoutMs: number;
  readonly pollIntervalMs: number;
  /** Job definitions by name. */
  readonly definitions: ReadonlyMap<string, JobDefinition>;
  /** The queues the jobs name, each with its rate limit (if any). */
  readonly queues: ReadonlyMap<string, RateLimit | undefined>;
}

function positive(label: string, value: number, problems: string[]): number {
  if (!Number.isInteger(value) || value < 1)
    problems.push(`${label} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Applies the defaults of {@link JobWorkerOptions} and checks every value.
 * Throws one `Error` listing every problem (not just the first).
 *
 * @example
 * resolveWorkerOptions({ jobs: [sendMail], concurrency: 50 }).batchSize; // 50
 */
export function resolveWorkerOptions(options: JobWorkerOptions): ResolvedWorkerOptions {
  const problems: string[] = [];
  const concurrency = positive('concurrency', options.concurrency ?? 10, problems);
  const batchSize = positive('batchSize', options.batchSize ?? Math.min(concurrency, 100), problems);
  const prefetch = options.prefetch ?? batchSize;
  if (!Number.isInteger(prefetch) || prefetch < 0)
    problems.push(`prefetch must be an integer >= 0, got ${prefetch}`);
  const leaseMs = positive('leaseMs', options.leaseMs ?? 30_000, problems);
  const pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs ?? 5000, problems);
  const shutdownTimeoutMs = Math.max(0, options.shutdownTimeoutMs ?? 10_000);
  if (options.jobs.length === 0) problems.push('a worker needs at least one job definition');
  const definitions = new Map<string, JobDefinition>();
  const queues = new Map<string, RateLimit | undefined>();
  for (const job of options.jobs) {
    if (definitions.has(job.name)) problems.push(`job "${job.name}" is given twice`);
    definitions.set(job.name, job);
    if (!queues.has(job.queue)) {
      const rate = options.rateLimits?.[job.queue];
      if (rate) {
        positive(`rateLimits.${job.queue}.max`, rate.max, problems);
        positive(`rateLimits.${job.queue}.intervalMs`, rate.intervalMs, problems);
      }
      queues.set(job.queue, rate);
    }
  }
  if (problems.length > 0) throw new Error(`invalid job worker options: ${problems.join('; ')}`);
  return {
    name: options.name ?? 'jobs-worker',
    concurrency,
    batchSize,
    prefetch,
    leaseMs,
    shutdownTimeoutMs,
    pollIntervalMs,
    definitions,
    queues,
  };
}
