import type { z } from 'zod';

/** What a handler gets besides its payload. */
export interface JobContext {
  /**
   * Job id, a UUIDv7 (time-ordered, random; never repeats). Stable across retries: use it (or a payload field) as
   * an idempotency key.
   */
  readonly id: string;
  /** Job name, as given to {@link defineJob}. */
  readonly name: string;
  /** Queue the job ran from. */
  readonly queue: string;
  /** 1 for the first run, 2 for the first retry, and so on (a lease that expired counts as an attempt). */
  readonly attempt: number;
  /** Attempts allowed in total before the job goes to the dead-letter set. */
  readonly maxAttempts: number;
  /**
   * Aborted when the worker shuts down past its deadline (the job is handed back), when the worker lost the
   * job's lease, or when its last confirmed lease ended before a renewal was confirmed (Redis unreachable):
   * another worker may run the job from then on. Long handlers should pass it on (`fetch(url, { signal })`).
   */
  readonly signal: AbortSignal;
}

/**
 * A job handler. Delivery is at-least-once, so it must be idempotent: running it twice must be harmless. A
 * thrown error is retried with backoff; throw a `PermanentJobError` when retrying cannot help (dead-lettered at once).
 */
export type JobHandler<S extends z.ZodType> = (payload: z.output<S>, context: JobContext) => Promise<void>;

/** Retry timing; see {@link retryDelayMs} for the formula. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms (before jitter). Default 1,000. */
  baseMs?: number;
  /** Upper bound of any retry delay, in ms. Default 600,000 (10 minutes). */
  maxMs?: number;
}

/** Options of {@link defineJob}; every field has a default. */
export interface JobOptions {
  /** Queue the job goes to. Queues are the unit of rate limiting and of worker subscription. Default `default`. */
  queue?: string;
  /** Attempts in total, first run included, before dead-lettering. Default 10; at least 1. */
  maxAttempts?: number;
  /** Retry delays. */
  backoff?: BackoffOptions;
  /** Default priority of this job's runs: lower runs first, -1,000 to 1,000. Default 0. */
  priority?: number;
}

/**
 * A job as the queue and workers use it, with every option resolved once. `handler` is declared as a method so
 * that a list of differently-typed jobs (`JobDefinition[]`) type-checks.
 */
export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly schema: S;
  handler(payload: z.output<S>, context: JobContext): Promise<void>;
  readonly queue: string;
  readonly maxAttempts: number;
  readonly backoff: Required<BackoffOptions>;
  readonly priority: number;
}

/** Priority bounds; the ready set's score packs priority and sequence into one exact double. */
export const MIN_PRIORITY = -1000;
export const MAX_PRIORITY = 1000;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Throws when a job or queue name could not be used as a Redis key part or a CLI argument. */
export function assertName(kind: 'job' | 'queue' | 'schedule', name: string): void {
  if (!NAME_PATTERN.test(name) || name.includes('{') || name.includes('}')) {
    throw new Error(`invalid ${kind} name "${name}": use 1-128 characters among A-Z a-z 0-9 . _ : -`);
  }
}

/** Throws unless `priority` is an integer in [MIN_PRIORITY, MAX_PRIORITY]. */
export function assertPriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw new Error(`priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${priority}`);
  }
}

function positiveInteger(label: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${label} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Declares a background job: its name, the zod schema of its payload, its handler and its options, resolved
 * once here so the queue and the workers never re-read defaults. Payloads are stored as JSON: use JSON types
 * (and `z.coerce.date()` for dates).
 *
 * @example
 * export const pollTrigger = defineJob(
 *   'poll-trigger',
 *   z.object({ appletId: z.string(), partner: z.string() }),
 *   async ({ appletId }, { signal }) => { await poll(appletId, { signal }); },
 *   { queue: 'partner-acme', maxAttempts: 8 },
 * );
 */
export function defineJob<S extends z.ZodType>(
  name: string,
  schema: S,
  handler: JobHandler<S>,
  options: JobOptions = {},
): JobDefinition<S> {
  assertName('job', name);
  const queue = options.queue ?? 'default';
  assertName('queue', queue);
  const priority = options.priority ?? 0;
  assertPriority(priority);
  const baseMs = positiveInteger('backoff.baseMs', options.backoff?.baseMs ?? 1000);
  const maxMs = positiveInteger('backoff.maxMs', options.backoff?.maxMs ?? 600_000);
  return Object.freeze({
    name,
    schema,
    handler,
    queue,
    priority,
    maxAttempts: positiveInteger('maxAttempts', options.maxAttempts ?? 10),
    backoff: Object.freeze({ baseMs, maxMs: Math.max(maxMs, baseMs) }),
  });
}

/**
 * Delay before the retry that follows failed attempt `attempt` (1-based): exponential with "equal jitter",
 * `cap = min(maxMs, baseMs * 2^(attempt-1))`, delay uniform in `[cap/2, cap]`. Jitter spreads retries of jobs
 * that failed together (a partner outage); the lower bound keeps retry delays growing attempt after attempt.
 *
 * @example
 * retryDelayMs(3, { baseMs: 1000, maxMs: 600_000 }); // between 2,000 and 4,000
 */
export function retryDelayMs(
  attempt: number,
  backoff: Required<BackoffOptions>,
  random = Math.random,
): number {
  const cap = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}
