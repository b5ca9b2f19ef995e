import type { Redis } from 'ioredis';
import type { JobDefinition } from './job-definition';
import { TakeTokens } from './job-ids';
import { parseRecord } from './job-record';
import { HandlerSlots } from './handler-slots';
import { recordFailure } from './failed-attempt';
import { renewLeases } from './lease-renewal';
import { PermanentJobError } from './permanent-job-error';
import { checkQueueRedis } from './queue-redis-check';
import { releaseScript } from './queue-scripts';
import { abort, RunContext, type Running as Run } from './run-context';
import { takeJobs, type TakeResult } from './take-call';
import type { TakeLease } from './take-lease';
import type { WorkerHost } from './worker-host';
import { resolveWorkerOptions, type JobWorkerOptions, type ResolvedWorkerOptions } from './worker-options';
import { queueState, seriesFor, type QueueState, type Running } from './worker-queue';

export type { JobWorkerOptions, RateLimit } from './worker-options';

/**
 * Runs jobs from Redis. Idle workers wait on a pub/sub wake-up (dedicated connection), not a poll, so a job
 * starts within a round trip of its enqueue. Each round trip takes up to `batchSize` jobs under one lease token;
 * outcomes are acked in batches once per event-loop turn. A lifecycle component (`start()` / `stop()`).
 *
 * @example
 * const worker = jobs.createWorker({ jobs: [pollTrigger], concurrency: 50, rateLimits: { 'partner-acme': { max: 10, intervalMs: 1000 } } });
 * await worker.start();
 * process.on('SIGTERM', () => void worker.stop());
 */
export class JobWorker {
  readonly name: string;
  private readonly options: ResolvedWorkerOptions;
  private readonly definitions: ReadonlyMap<string, JobDefinition>;
  private readonly queues = new Map<string, QueueState>();
  private readonly slots: HandlerSlots;
  private readonly tokens = new TakeTokens();
  /** Jobs this worker holds a lease on, across its queues: running, or prefetched and waiting. */
  private held = 0;
  private readonly waiting: Running[] = [];
  private subscriber: Redis | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private loops: Promise<void>[] = [];
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopped: Promise<void> | null = null;

  constructor(
    private readonly host: WorkerHost,
    options: JobWorkerOptions,
  ) {
    this.options = resolveWorkerOptions(options);
    this.name = this.options.name;
    this.definitions = this.options.definitions;
    this.slots = new HandlerSlots(this.options.concurrency);
    for (const [name, rate] of this.options.queues) {
      const state: QueueState = queueState(host, name, rate, (error) => this.reportError(state, error));
      this.queues.set(name, state);
    }
  }

  /** Jobs whose handler runs now in this process. */
  get inFlight(): number {
    return this.slots.active;
  }

  /**
   * Checks what the queue needs from Redis (logged: an evicting `maxmemory-policy` as an error, no persistence
   * as a warning; see `queueRedisCheck` for readiness), subscribes to wake-ups and starts one take loop per queue.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`worker ${this.name} was already started`);
    this.state = 'running';
    for (const name of this.queues.keys()) await this.host.useQueue(name);
    void checkQueueRedis(this.host.redis)
      .then((found) => {
        if (found.status === 'fail') this.host.logger?.error({ worker: this.name }, found.output);
        else if (found.status === 'warn') this.host.logger?.warn({ worker: this.name }, found.output);
      })
      .catch(() => undefined);
    const byChannel = new Map([...this.queues.values()].map((q) => [q.keys.wakeChannel, q]));
    const subscriber = this.host.createConnection();
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string) => {
      const q = byChannel.get(channel);
      if (q) this.wake(q, true);
    });
    // After a reconnect (ioredis re-subscribes by itself), wake every loop: messages sent meanwhile were lost.
    subscriber.on('ready', () => this.queues.forEach((q) => this.wake(q)));
    subscriber.on('error', (error: Error) => this.reportError(null, error));
    await subscriber.subscribe(...byChannel.keys());
    const beat = Math.max(50, Math.floor(this.options.leaseMs / 3));
    this.heartbeat = setInterval(
      () =>
        this.queues.forEach(
          (q) => void renewLeases(this.host, q, this.options.leaseMs, (error) => this.reportError(q, error)),
        ),
      beat,
    );
    // A rate-limited queue never prefetches (a take is a start there), so two loops take from it: one take is
    // in flight while the jobs of the other run.
    this.loops = [...this.queues.values()].flatMap((q) =>
      q.rate ? [this.loop(q), this.loop(q)] : [this.loop(q)],
    );
  }

  /**
   * Graceful shutdown: stops taking jobs, lets in-flight jobs finish for up to `shutdownTimeoutMs`, then aborts
   * the rest (their `signal`) and hands them back to the queue at once (no wait for the lease; the attempt is
   * not counted). Outcomes are flushed before it resolves. Safe to call twice.
   */
  stop(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      return Promise.resolve();
    }
    this.stopped ??= this.finishAndStop();
    return this.stopped;
  }

  private async finishAndStop(): Promise<void> {
    this.state = 'stopping';
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    this.queues.forEach((q) => this.wake(q));
    this.slots.notify();
    await Promise.race([Promise.all(this.loops), deadlineTimer(Math.max(0, deadline - Date.now()))]);
    if (this.waiting.length > 0) await this.handBack(this.waiting.splice(0));
    while (this.held > 0 && Date.now() < deadline) {
      await Promise.race([this.slots.changed(), deadlineTimer(deadline - Date.now())]);
    }
    if (this.held > 0) {
      await this.handBack(
        [...this.queues.values()].flatMap((q) =>
          [...q.leases.values()].flatMap((l) => l.holding() as Running[]),
        ),
      );
    }
    if (this.heartbeat) clearInterval(this.heartbeat);
    const flushDeadline = Date.now() + 5000;
    for (const q of this.queues.values()) {
      if (!(await q.acks.flushUntil(flushDeadline))) {
        this.host.logger?.warn(
          { queue: q.keys.queue, pending: q.acks.pending },
          'could not record job outcomes before exit; their leases will expire and the jobs run again',
        );
      }
      for (const lease of q.leases.values()) lease.close();
    }
    this.host.metrics?.flush();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
    this.state = 'stopped';
  }

  private async handBack(jobs: Running[]): Promise<void> {
    const byLease = new Map<TakeLease, Running[]>();
    for (const job of jobs) {
      job.released = true;
      this.untrack(job);
      abort(job, new Error('worker shutting down: job handed back to the queue'));
      const list = byLease.get(job.lease) ?? [];
      list.push(job);
      byLease.set(job.lease, list);
    }
    for (const [lease, mine] of byLease) {
      const q = mine[0].queue;
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const count = Number(
            await releaseScript.run(this.host.redis, q.keys.all, [
              q.keys.wakeChannel,
              lease.token,
              ...mine.map((job) => job.id),
            ]),
          );
          this.host.events.emit('released', { queue: q.keys.queue, count });
          this.host.logger?.info({ queue: q.keys.queue, count }, 'in-flight jobs handed back on shutdown');
          break;
        } catch (error) {
          // If Redis stays unreachable, the leases expire and the jobs run again anyway.
          this.reportError(q, error);
          await delay(200);
        }
      }
    }
  }

  private async loop(q: QueueState): Promise<void> {
    let errors = 0;
    /** Kept after a failed take: retrying with the same token returns what the lost take leased. */
    let token: string | null = null;
    while (this.state === 'running') {
      let max: number;
      let reserved = 0;
      if (q.rate) {
        // Rate-limited: a take counts as a start, so take only for free slots (reserved while the take is in
        // flight) and start on arrival. Each of the two loops takes half a batch once that many slots are free
        // (never more: a loop that took every free slot left its sibling nothing to take, so takes and handlers
        // ran one after the other), so one take is in flight while the jobs of the other run.
        const want = Math.ceil(Math.min(this.options.batchSize, this.options.concurrency) / 2);
        reserved = this.slots.free >= want ? this.slots.reserve(want) : 0;
        max = reserved;
        if (max <= 0 && !q.claiming) {
          // Claim the slots that free up next, so prefetched jobs of other queues cannot take every freed slot
          // one by one and starve this queue (one claim per queue at a time).
          q.claiming = true;
          this.slots.claimed += want;
          this.flushIfPending(q);
          await this.slots.changed();
          this.slots.claimed -= want;
          q.claiming = false;
          continue;
        }
      } else {
        const room = this.options.concurrency + this.options.prefetch - this.held - this.slots.reserved;
        // While prefetched jobs wait, take only once a good part of a batch fits (no trickle of tiny takes).
        max = room <= 0 || (this.waiting.length > 0 && room < this.options.batchSize / 2) ? 0 : room;
        max = Math.min(max, this.options.batchSize);
      }
      if (max <= 0) {
        this.flushIfPending(q);
        await this.slots.changed();
        continue;
      }
      const seq = q.wakeSeq;
      token ??= this.tokens.next();
      let taken: TakeResult;
      try {
        taken = await takeJobs(this.host, q, token, max, this.options.leaseMs, (lease) =>
          this.dropLease(q, lease),
        );
        token = null;
        errors = 0;
      } catch (error) {
        this.slots.unreserve(reserved);
        this.reportError(q, error);
        this.flushIfPending(q);
        await this.idle(q, Math.min(5000, 50 * 2 ** errors++));
        continue;
      }
      this.slots.unreserve(reserved);
      if (this.state !== 'running') {
        for (const run of taken.jobs) this.track(run);
        if (taken.jobs.length > 0) await this.handBack(taken.jobs);
        break;
      }
      // A full take on a queue with two loops: there is likely more, let the sibling take too.
      if (q.rate && taken.jobs.length === max) this.wake(q, true);
      for (const run of taken.jobs) {
        this.track(run);
        // Jobs of a rate-limited queue start now (their slots were reserved); others wait for a free slot.
        if (q.rate || this.slots.freeForPrefetched > 0) void this.execute(run);
        else this.waiting.push(run);
      }
      // Idle unless more jobs are ready (nextDueMs 0) or a wake-up came during the take.
      if (taken.nextDueMs !== 0 && q.wakeSeq === seq) {
        this.flushIfPending(q);
        await this.idle(
          q,
          taken.nextDueMs >= 0
            ? Math.min(taken.nextDueMs, this.options.pollIntervalMs)
            : this.options.pollIntervalMs,
        );
      }
    }
  }

  private track(_run: Running): void {
    this.held++;
  }

  private untrack(run: Running): void {
    if (run.settled) return;
    this.held--;
    if (run.lease.remove(run)) run.queue.leases.delete(run.lease.token);
  }

  private dropLease(q: QueueState, lease: TakeLease): void {
    if (q.leases.get(lease.token) === lease) q.leases.delete(lease.token);
    this.host.logger?.warn(
      { queue: q.keys.queue, jobs: lease.holding().length },
      'job lease could not be renewed in time; handlers aborted (the jobs may run elsewhere)',
    );
  }

  private async execute(run: Running): Promise<void> {
    this.slots.start();
    const q = run.queue;
    const queueName = q.keys.queue;
    const record = parseRecord(run.raw);
    const definition = this.definitions.get(record.n);
    const metrics = this.host.metrics;
    const series = metrics && seriesFor(this.host, q, record.n);
    const startedAt = performance.now();
    if (series) {
      series.started++;
      metrics.touch(series);
      series.wait.observe(Math.max(0, Date.now() - record.r) / 1000);
    }
    if (this.host.events.listenerCount('started') > 0) {
      this.host.events.emit('started', {
        queue: queueName,
        id: run.id,
        name: record.n,
        attempt: run.attempt,
        waitMs: Math.max(0, Date.now() - record.r),
      });
    }
    try {
      if (record.unreadable) throw new PermanentJobError(record.unreadable);
      if (!definition) throw new Error(`no handler for job "${record.n}" on worker ${this.name}`);
      const parsed = definition.schema.safeParse(record.d);
      if (!parsed.success) {
        throw new PermanentJobError(
          `stored payload no longer matches the schema of "${record.n}": ${parsed.error.message}`,
        );
      }
      await definition.handler(parsed.data, new RunContext(run as Run, record.n, record.m));
      const seconds = (performance.now() - startedAt) / 1000;
      if (series) {
        series.run.observe(seconds);
        series.completed++;
        metrics.touch(series);
      }
      if (!run.released) {
        q.acks.complete(run.lease.token, run.id);
        // While a take is in flight, the completion rides along with the take the loop sends next.
        if (!(q.taking > 0 && this.state === 'running')) q.acks.schedule();
      }
      if (this.host.events.listenerCount('completed') > 0) {
        this.host.events.emit('completed', {
          queue: queueName,
          id: run.id,
          name: record.n,
          attempt: run.attempt,
          durationMs: seconds * 1000,
        });
      }
    } catch (error) {
      recordFailure(this.host, run, record.n, record.m, definition, error, series, startedAt);
    } finally {
      this.untrack(run);
      this.slots.end();
      this.startWaiting();
    }
  }

  /** Starts prefetched jobs while slots are free; a job whose lease ended meanwhile is dropped (it runs elsewhere). */
  private startWaiting(): void {
    while (this.state === 'running' && this.slots.freeForPrefetched > 0 && this.waiting.length > 0) {
      const next = this.waiting.shift() as Running;
      if (next.lease.expired) this.untrack(next);
      else void this.execute(next);
    }
  }

  /** Acks what is pending now (the loop is about to wait, so no take would carry it). */
  private flushIfPending(q: QueueState): void {
    if (q.acks.pending > 0) q.acks.schedule();
  }

  /**
   * Wakes the idle loops of `q`; with `one`, only the longest-waiting (a wake-up message: one take is enough to
   * see what came, and a loop that takes a full batch wakes its sibling).
   */
  private wake(q: QueueState, one = false): void {
    q.wakeSeq++;
    for (const wake of q.wakers) {
      wake();
      if (one) break;
    }
  }

  private idle(q: QueueState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        q.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      q.wakers.add(done);
    });
  }

  private reportError(q: QueueState | null, error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const queue = q?.keys.queue ?? '*';
    this.host.logger?.warn({ queue, err: err.message }, 'job worker Redis error; retrying');
    if (this.host.events.listenerCount('workerError') > 0)
      this.host.events.emit('workerError', { queue, error: err });
  }
}

/**
 * A shutdown deadline that does not keep the process alive: most drains finish long before it, and a
 * pending timer would hold the exit back by up to `shutdownTimeoutMs` after `stop()` resolved.
 */
function deadlineTimer(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
