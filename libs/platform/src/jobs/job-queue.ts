/**
 * The job queue: producers enqueue typed jobs, workers lease and run them. Redis (ioredis) is the only
 * dependency; every state change is one Lua script, so a queue is consistent whatever process dies when.
 *
 * Guarantees (with their conditions: ./README.md#guarantees):
 * - At-least-once delivery while Redis keeps its data (`appendonly yes`, `maxmemory-policy noeviction`, checked
 *   by `queueRedisCheck`): every job runs or is dead-lettered with a reason; handlers MUST be idempotent.
 * - Leases and fencing: a take leases a batch under one token; completions, failures, renewals and hand-backs
 *   present it and change nothing once the lease expired; ids are UUIDv7 and never repeat.
 * - Re-sent commands (ioredis re-sends after a reconnect) are no-ops: the producer names ids and the call, the
 *   worker names the take token.
 * - No script fails after its first write: payloads are opaque to Lua; unreadable stored values dead-letter
 *   their job with the reason.
 * - Retries with capped exponential backoff and equal jitter, then the dead-letter set; PermanentJobError
 *   dead-letters at once.
 * - Unique jobs: while a job with `uniqueKey` waits, enqueueing the same key returns the waiting job's id.
 * - Rate limit (per queue, set on workers): at most `max` starts in any window of `intervalMs`.
 * - Ordering: lower priority number first, FIFO within a priority.
 * - Graceful shutdown: see {@link JobWorker.stop}.
 */
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { assertName, assertPriority, type JobDefinition } from './job-definition';
import { findIllFormedJson } from '../validation/well-formed-json';
import { isWellFormedText } from '../validation/well-formed-text';
import { JobEvents } from './job-events';
import type { JobLogger } from './job-logger';
import { JobMetrics, type QueueDepth } from './job-metrics';
import { JobIds } from './job-ids';
import { parseHistory, parseRecord, recordHeader, type AttemptFailure } from './job-record';
import { JobWorker } from './job-worker';
import { DEFAULT_JOBS_PREFIX, queueKeys, queueRegistryKey, type QueueKeys } from './queue-keys';
import { enqueueScript, purgeDeadScript, retryDeadScript, statsScript } from './queue-scripts';
import type { WorkerHost } from './worker-host';
import type { JobWorkerOptions } from './worker-options';

export type { JobLogger } from './job-logger';

/** Options of {@link JobQueue}. */
export interface JobQueueOptions {
  /** Connection for commands; shared with the rest of the service is fine (no blocking commands run on it). */
  redis: Redis;
  /** Makes one more connection (workers subscribe to wake-ups on it). Default: `redis.duplicate()`. */
  createConnection?: () => Redis;
  /** Key prefix; default `ittd:jobs:`. Tests use one per file. */
  prefix?: string;
  /** Where the `jobs_*` Prometheus series go (the service registry). Without it no metrics are kept. */
  registry?: Registry;
  logger?: JobLogger;
}

/** Per-enqueue options. */
export interface EnqueueOptions {
  /** Run no sooner than this many ms from now. */
  delayMs?: number;
  /** Run no sooner than this time (converted to a delay from the producer's clock). */
  runAt?: Date;
  /** While a job with this key waits, enqueueing the same key again is a no-op. */
  uniqueKey?: string;
  /** Overrides the job's default priority (-1,000 to 1,000, lower first). */
  priority?: number;
}

/** Result of one enqueue: `created` is false when a waiting job with the same unique key was found. */
export interface EnqueueResult {
  id: string;
  created: boolean;
}

/** A payload refused by its job's schema at enqueue time; nothing of the call was enqueued. */
export class JobPayloadError extends Error {
  constructor(
    readonly job: string,
    readonly index: number | null,
    readonly issues: z.core.$ZodIssue[],
  ) {
    const where = index === null ? '' : ` (item ${index})`;
    super(`invalid payload for job "${job}"${where}: ${z.prettifyError(new z.ZodError(issues))}`);
    this.name = 'JobPayloadError';
  }
}

/** A dead-lettered job as listed by {@link JobQueue.listDead}. */
export interface DeadJob {
  id: string;
  name: string;
  payload: unknown;
  attempts: number;
  failures: AttemptFailure[];
  deadAt: Date;
  enqueuedAt: Date;
}

/** The record header of a job and the values the enqueue script needs beside it. */
function recordOptions(
  job: JobDefinition,
  options: EnqueueOptions,
  now: number,
): { header: string; priority: number; delayMs: number; uniqueKey: string } {
  const priority = options.priority ?? job.priority;
  assertPriority(priority);
  const delayMs = Math.max(
    0,
    Math.round(options.runAt ? options.runAt.getTime() - now : (options.delayMs ?? 0)),
  );
  if (!Number.isFinite(delayMs)) throw new Error(`invalid delay or runAt for job "${job.name}"`);
  const uniqueKey = options.uniqueKey ?? '';
  if (uniqueKey.includes('\n') || !isWellFormedText(uniqueKey)) {
    throw new Error(
      `uniqueKey of job "${job.name}" must be well-formed Unicode without newline or NUL, got ${JSON.stringify(uniqueKey)}`,
    );
  }
  const header = recordHeader(job.name, priority, job.maxAttempts, now + delayMs, now, uniqueKey);
  return { header, priority, delayMs, uniqueKey };
}

/**
 * What the platform's rules for outside JSON ({@link findIllFormedJson}: well-formed Unicode, no NUL, at most
 * `MAX_JSON_DEPTH` levels) find in a payload, as zod issues; `[]` when it may be stored. A NUL or a lone
 * surrogate shows in `JSON.stringify`'s text as a `\u` escape (a lone surrogate as `"\ud83d"`, which JavaScript
 * reads back but Redis's cjson and Postgres refuse), so a payload whose text has no `\u` costs one `includes`.
 */
function payloadProblems(payload: unknown, body: string): z.core.$ZodIssue[] {
  if (!body.includes('\\u')) return [];
  return findIllFormedJson(payload).map(({ path, reason }) => ({
    code: 'custom' as const,
    path,
    input: undefined,
    message: `${reason}; such text cannot be stored`,
  }));
}

/** `JSON.stringify(payload)`, or the reason it cannot be written (a cycle, a BigInt, nesting too deep for the stack). */
function payloadText(payload: unknown): string | Error {
  try {
    return JSON.stringify(payload) ?? new Error('not JSON-serialisable');
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Jobs per enqueue script call: large enough to amortise the round trip, small enough not to block Redis. */
const ENQUEUE_CHUNK = 1000;
/** Dead jobs handled per script call by retry/purge "all". */
const DEAD_CHUNK = 1000;

/**
 * Producer and admin side of the job system, and the factory of workers. One per service; queues are named
 * by the job definitions.
 *
 * @example
 * const jobs = new JobQueue({ redis, registry: metrics, logger });
 * await jobs.enqueue(pollTrigger, { appletId: 'a1', partner: 'acme' }, { uniqueKey: 'poll:a1' });
 * const worker = jobs.createWorker({ jobs: [pollTrigger], concurrency: 50 });
 * await worker.start(); // lifecycle component: stop() drains and hands back
 */
export class JobQueue implements WorkerHost {
  readonly redis: Redis;
  readonly prefix: string;
  readonly events = new JobEvents();
  readonly metrics: JobMetrics | undefined;
  readonly logger: JobLogger | undefined;
  readonly createConnection: () => Redis;
  private readonly keysByQueue = new Map<string, QueueKeys>();
  private readonly registeredQueues = new Set<string>();
  private readonly ids = new JobIds();

  constructor(options: JobQueueOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? DEFAULT_JOBS_PREFIX;
    this.logger = options.logger;
    this.createConnection = options.createConnection ?? (() => options.redis.duplicate());
    this.metrics = options.registry ? JobMetrics.for(options.registry) : undefined;
    this.metrics?.addDepthSource(() => this.stats([...this.registeredQueues]));
  }

  /** Keys of `queue` (cached). */
  keys(queue: string): QueueKeys {
    let keys = this.keysByQueue.get(queue);
    if (!keys) {
      assertName('queue', queue);
      keys = queueKeys(this.prefix, queue);
      this.keysByQueue.set(queue, keys);
    }
    return keys;
  }

  /**
   * Validates `payload` with the job's schema and enqueues it. Throws {@link JobPayloadError} on a bad payload.
   *
   * @example
   * await jobs.enqueue(sendDigest, { userId: 'u1' }, { runAt: tomorrow9am, uniqueKey: 'digest:u1' });
   */
  async enqueue<S extends z.ZodType>(
    job: JobDefinition<S>,
    payload: z.input<S>,
    options: EnqueueOptions = {},
  ): Promise<EnqueueResult> {
    const [result] = await this.enqueueMany(job, [payload], options);
    return result;
  }

  /**
   * Validates every payload first (one bad payload refuses the whole call), then enqueues them in chunks of
   * 1,000 per round trip, in order. Options may be one object for all or a function of the payload and index.
   *
   * @example
   * await jobs.enqueueMany(pollTrigger, applets.map((a) => ({ appletId: a.id, partner: 'acme' })),
   *   (payload) => ({ uniqueKey: `poll:${payload.appletId}` }));
   */
  async enqueueMany<S extends z.ZodType>(
    job: JobDefinition<S>,
    payloads: readonly z.input<S>[],
    options: EnqueueOptions | ((payload: z.input<S>, index: number) => EnqueueOptions) = {},
  ): Promise<EnqueueResult[]> {
    if (payloads.length === 0) return [];
    const now = Date.now();
    const sharedOptions = typeof options === 'function' ? null : options;
    // With shared options every record has the same header, built once, and the script gets the options once
    // instead of per job.
    const shared = sharedOptions ? recordOptions(job, sharedOptions, now) : null;
    const records: string[] = [];
    const perJob: string[] = [];
    payloads.forEach((payload, index) => {
      const checked = job.schema.safeParse(payload);
      if (!checked.success) {
        throw new JobPayloadError(job.name, payloads.length > 1 ? index : null, checked.error.issues);
      }
      const at = payloads.length > 1 ? index : null;
      const body = payloadText(payload);
      if (body instanceof Error) {
        throw new JobPayloadError(job.name, at, [
          {
            code: 'custom',
            path: [],
            input: undefined,
            message: `cannot be written as JSON: ${body.message}`,
          },
        ]);
      }
      const problems = payloadProblems(payload, body);
      if (problems.length > 0) throw new JobPayloadError(job.name, at, problems);
      if (shared) {
        records.push(shared.header + body);
      } else {
        const own = recordOptions(
          job,
          (options as (p: z.input<S>, i: number) => EnqueueOptions)(payload, index),
          now,
        );
        records.push(own.header + body);
        perJob.push(`${own.uniqueKey}\0${own.priority}\0${own.delayMs}\0`);
      }
    });
    const keys = this.keys(job.queue);
    await this.registerQueue(job.queue);
    const calls: Promise<unknown>[] = [];
    const allIds: string[] = [];
    for (let start = 0; start < records.length; start += ENQUEUE_CHUNK) {
      const count = Math.min(ENQUEUE_CHUNK, records.length - start);
      const { ms, ids } = this.ids.next(count);
      // Lines end with NUL (records hold a newline, never a NUL); see enqueueScript.
      let packed = shared ? `${shared.uniqueKey}\0${shared.priority}\0${shared.delayMs}\0` : '';
      for (let j = 0; j < count; j++) {
        if (!shared) packed += perJob[start + j];
        packed += `${ids[j]}\0${records[start + j]}\0`;
      }
      allIds.push(...ids);
      // The call is named by its first id: a re-sent call is a no-op (see enqueueScript).
      calls.push(
        enqueueScript.run(this.redis, keys.all, [
          keys.wakeChannel,
          count,
          packed.slice(0, -1),
          shared ? '1' : '0',
          ids[0],
          ms,
        ]),
      );
    }
    const results: EnqueueResult[] = allIds.map((id) => ({ id, created: true }));
    const replies = (await Promise.all(calls)) as (string | number)[][];
    replies.forEach((reply, call) => {
      // Every job got its own id, except the (index, id) pairs: waiting unique jobs that stood in.
      const first = call * ENQUEUE_CHUNK;
      for (let i = 0; i < reply.length; i += 2) {
        results[first + Number(reply[i]) - 1] = { id: String(reply[i + 1]), created: false };
      }
    });
    const created = results.filter((r) => r.created).length;
    if (created > 0) this.metrics?.enqueued.labels(job.queue, job.name).inc(created);
    if (this.events.listenerCount('enqueued') > 0) {
      for (const r of results) this.events.emit('enqueued', { queue: job.queue, name: job.name, ...r });
    }
    return results;
  }

  /** Queue names any producer of this prefix has used. */
  async listQueues(): Promise<string[]> {
    return (await this.redis.smembers(queueRegistryKey(this.prefix))).sort();
  }

  /** Depth of each queue (default: every known queue) by state. */
  async stats(queues?: readonly string[]): Promise<Record<string, QueueDepth>> {
    const names = queues ?? (await this.listQueues());
    const replies = (await Promise.all(
      names.map((queue) => statsScript.run(this.redis, this.keys(queue).all, [])),
    )) as number[][];
    const stats: Record<string, QueueDepth> = {};
    names.forEach((queue, q) => {
      const [ready, delayed, leased, dead] = replies[q].map(Number);
      stats[queue] = { ready, delayed, leased, dead };
    });
    return stats;
  }

  /**
   * Jobs of `queue` waiting to run (ready in priority and FIFO order, then delayed by due time), up to `limit`,
   * with their payloads: for tests and operators (the storage format is the queue's own business).
   *
   * @example
   * (await jobs.listWaiting('partner-acme')).map((job) => job.payload);
   */
  async listWaiting(
    queue: string,
    { limit = 1000 }: { limit?: number } = {},
  ): Promise<{ id: string; name: string; payload: unknown; state: 'ready' | 'delayed' }[]> {
    const keys = this.keys(queue);
    const ready: string[] = [];
    for (const priority of await this.redis.zrange(keys.ready, 0, -1)) {
      if (ready.length >= limit) break;
      ready.push(...(await this.redis.lrange(keys.readyList(Number(priority)), 0, limit - ready.length - 1)));
    }
    const delayed =
      ready.length < limit ? await this.redis.zrange(keys.delayed, 0, limit - ready.length - 1) : [];
    const ids = [...ready, ...delayed];
    if (ids.length === 0) return [];
    const records = await this.redis.hmget(keys.jobs, ...ids);
    return ids.flatMap((id, i) => {
      const raw = records[i];
      if (raw === null) return [];
      const record = parseRecord(raw);
      return [
        {
          id,
          name: record.n,
          payload: record.d,
          state: i < ready.length ? ('ready' as const) : ('delayed' as const),
        },
      ];
    });
  }

  /** Dead-lettered jobs of `queue`, oldest first, with payload and attempt history. */
  async listDead(
    queue: string,
    { offset = 0, limit = 50 }: { offset?: number; limit?: number } = {},
  ): Promise<DeadJob[]> {
    const keys = this.keys(queue);
    const entries = await this.redis.zrange(keys.dead, offset, offset + limit - 1, 'WITHSCORES');
    const ids = entries.filter((_, i) => i % 2 === 0);
    if (ids.length === 0) return [];
    const [records, attempts, histories] = await Promise.all([
      this.redis.hmget(keys.jobs, ...ids),
      this.redis.hmget(keys.attempts, ...ids),
      this.redis.hmget(keys.history, ...ids),
    ]);
    return ids.flatMap((id, i) => {
      const raw = records[i];
      if (raw === null) return [];
      const record = parseRecord(raw);
      return [
        {
          id,
          name: record.n,
          payload: record.d,
          attempts: Number(attempts[i] ?? 0),
          failures: parseHistory(histories[i]),
          deadAt: new Date(Number(entries[i * 2 + 1])),
          enqueuedAt: new Date(record.t),
        },
      ];
    });
  }

  /** Puts dead jobs (given ids, or all) back to ready with attempts reset. Returns how many moved. */
  async retryDead(queue: string, ids: readonly string[] | 'all'): Promise<number> {
    const keys = this.keys(queue);
    if (ids !== 'all') {
      return ids.length === 0
        ? 0
        : Number(await retryDeadScript.run(this.redis, keys.all, [keys.wakeChannel, 0, ...ids]));
    }
    return this.drainDead(keys, () =>
      retryDeadScript.run(this.redis, keys.all, [keys.wakeChannel, DEAD_CHUNK]),
    );
  }

  /** Deletes dead jobs (given ids, or all) with their payload and history. Returns how many were deleted. */
  async purgeDead(queue: string, ids: readonly string[] | 'all'): Promise<number> {
    const keys = this.keys(queue);
    if (ids !== 'all') {
      return ids.length === 0 ? 0 : Number(await purgeDeadScript.run(this.redis, keys.all, [0, ...ids]));
    }
    return this.drainDead(keys, () => purgeDeadScript.run(this.redis, keys.all, [DEAD_CHUNK]));
  }

  /**
   * Creates a worker for these job definitions (grouped by their queues). It is a lifecycle component:
   * `start()` begins taking jobs, `stop()` drains.
   */
  createWorker(options: JobWorkerOptions): JobWorker {
    return new JobWorker(this, options);
  }

  private async drainDead(keys: QueueKeys, step: () => Promise<unknown>): Promise<number> {
    const rounds = Math.ceil((await this.redis.zcard(keys.dead)) / DEAD_CHUNK) + 1;
    let total = 0;
    for (let round = 0; round < rounds; round++) {
      const moved = Number(await step());
      total += moved;
      if (moved < DEAD_CHUNK) break;
    }
    return total;
  }

  private async registerQueue(queue: string): Promise<void> {
    if (this.registeredQueues.has(queue)) return;
    await this.redis.sadd(queueRegistryKey(this.prefix), queue);
    this.registeredQueues.add(queue);
  }

  /** Records that this process uses `queue` (workers call it), for the depth gauge and `stats()`. */
  async useQueue(queue: string): Promise<void> {
    this.keys(queue);
    await this.registerQueue(queue);
  }
}
