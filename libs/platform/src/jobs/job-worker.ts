import type { Redis } from 'ioredis';
import { retryDelayMs, type JobDefinition } from './job-definition';
import type { JobSeries } from './job-metrics';
import { errorText, parseRecord } from './job-record';
import { PermanentJobError } from './permanent-job-error';
import type { QueueKeys } from './queue-keys';
import { ackScript, extendScript, releaseScript, takeScript } from './queue-scripts';
import { abort, RunContext, type Running as Run, type RunQueue } from './run-context';
import type { WorkerHost } from './worker-host';
import {
  resolveWorkerOptions,
  type JobWorkerOptions,
  type RateLimit,
  type ResolvedWorkerOptions,
} from './worker-options';

export type { JobWorkerOptions, RateLimit } from './worker-options';

type Running = Run<QueueState>;

interface QueueState extends RunQueue {
  readonly keys: QueueKeys;
  readonly rate: RateLimit | undefined;
  wakeSeq: number;
  wake: (() => void) | null;
  /** Ids of completed jobs waiting for the next batched ack. */
  completed: string[];
  /** Failed attempts waiting for the next batched ack, 5 values each (see ackScript). */
  failures: (string | number)[];
  flushScheduled: boolean;
  flushing: Promise<void> | null;
  /** A take is in flight: completions wait for the next take instead of an ack call of their own. */
  taking: boolean;
  /** Metric series by job name (when the queue keeps metrics). */
  readonly series: Map<string, JobSeries>;
  /** Jobs of this queue the worker holds a lease on, by id: running, or prefetched and waiting. */
  readonly held: Map<string, Running>;
}

const DEFAULT_BACKOFF = { baseMs: 1000, maxMs: 600_000 };
/** Completed jobs per ack script call (one packed argument). */
const ACK_CHUNK = 2000;
/** Failed attempts per ack script call (5 arguments each). */
const FAILURE_CHUNK = 200;

function pendingAcks(q: QueueState): number {
  return q.completed.length + q.failures.length / 5;
}

/**
 * Runs jobs from Redis. Idle workers wait on a pub/sub wake-up (dedicated connection), not a poll, so a job
 * starts within a round trip of its enqueue. Each round trip takes up to `batchSize` jobs under lease; outcomes
 * are acked in batches once per event-loop turn. A lifecycle component (`start()` / `stop()`).
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
  /** Jobs this worker holds a lease on, across its queues (the sum of their `held` sizes). */
  private held = 0;
  private readonly waiting: Running[] = [];
  private active = 0;
  private slotWaiters: (() => void)[] = [];
  private subscriber: Redis | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private loops: Promise<void>[] = [];
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopped: Promise<void> | null = null;
  /** Acks are retried until this time; set to a few seconds after the drain on shutdown. */
  private flushDeadline = Infinity;

  constructor(
    private readonly queue: WorkerHost,
    options: JobWorkerOptions,
  ) {
    this.options = resolveWorkerOptions(options);
    this.name = this.options.name;
    this.definitions = this.options.definitions;
    for (const [name, rate] of this.options.queues) {
      this.queues.set(name, {
        keys: queue.keys(name),
        rate,
        wakeSeq: 0,
        wake: null,
        completed: [],
        failures: [],
        flushScheduled: false,
        flushing: null,
        taking: false,
        series: new Map(),
        held: new Map(),
      });
    }
  }

  /** Jobs whose handler runs now in this process. */
  get inFlight(): number {
    return this.active;
  }

  /** Subscribes to wake-ups and starts one take loop per queue. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`worker ${this.name} was already started`);
    this.state = 'running';
    for (const name of this.queues.keys()) await this.queue.useQueue(name);
    const byChannel = new Map([...this.queues.values()].map((q) => [q.keys.wakeChannel, q]));
    const subscriber = this.queue.createConnection();
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string) => {
      const q = byChannel.get(channel);
      if (q) this.wake(q);
    });
    // After a reconnect (ioredis re-subscribes by itself), wake every loop: messages sent meanwhile were lost.
    subscriber.on('ready', () => this.queues.forEach((q) => this.wake(q)));
    subscriber.on('error', (error: Error) => this.reportError(null, error));
    await subscriber.subscribe(...byChannel.keys());
    const beat = Math.max(100, Math.floor(this.options.leaseMs / 3));
    this.heartbeat = setInterval(() => void this.extendLeases(), beat);
    this.loops = [...this.queues.values()].map((q) => this.loop(q));
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
    this.stopped ??= this.drain();
    return this.stopped;
  }

  private async drain(): Promise<void> {
    this.state = 'stopping';
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    this.queues.forEach((q) => this.wake(q));
    this.notifySlot();
    await Promise.race([Promise.all(this.loops), deadlineTimer(Math.max(0, deadline - Date.now()))]);
    if (this.waiting.length > 0) await this.handBack(this.waiting.splice(0));
    while (this.held > 0 && Date.now() < deadline) {
      await Promise.race([
        new Promise<void>((resolve) => this.slotWaiters.push(resolve)),
        deadlineTimer(deadline - Date.now()),
      ]);
    }
    if (this.held > 0) await this.handBack([...this.queues.values()].flatMap((q) => [...q.held.values()]));
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.flushDeadline = Date.now() + 5000;
    await Promise.all([...this.queues.values()].map((q) => this.flushNow(q)));
    this.queue.metrics?.flush();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
    this.state = 'stopped';
  }

  private async handBack(jobs: Running[]): Promise<void> {
    for (const job of jobs) {
      job.released = true;
      this.untrack(job);
      abort(job, new Error('worker shutting down: job handed back to the queue'));
    }
    for (const q of this.queues.values()) {
      const mine = jobs.filter((job) => job.queue === q);
      if (mine.length === 0) continue;
      const args = mine.flatMap((job) => [job.id, job.attempt]);
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const count = Number(
            await releaseScript.run(this.queue.redis, q.keys.all, [q.keys.wakeChannel, ...args]),
          );
          this.queue.events.emit('released', { queue: q.keys.queue, count });
          this.queue.logger?.info({ queue: q.keys.queue, count }, 'in-flight jobs handed back on shutdown');
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
    while (this.state === 'running') {
      const room = this.options.concurrency + this.options.prefetch - this.held;
      // While prefetched jobs wait, take only once a good part of a batch fits (no trickle of tiny takes).
      if (room <= 0 || (this.waiting.length > 0 && room < this.options.batchSize / 2)) {
        this.flushIfPending(q);
        await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
        continue;
      }
      const seq = q.wakeSeq;
      let taken: TakeResult;
      try {
        taken = await this.take(q, Math.min(room, this.options.batchSize));
        errors = 0;
      } catch (error) {
        this.reportError(q, error);
        this.flushIfPending(q);
        await this.idle(q, Math.min(5000, 50 * 2 ** errors++));
        continue;
      }
      if (this.state !== 'running') {
        for (const run of taken.jobs) this.track(run);
        if (taken.jobs.length > 0) await this.handBack(taken.jobs);
        break;
      }
      for (const run of taken.jobs) {
        this.track(run);
        if (this.active < this.options.concurrency) void this.execute(run);
        else this.waiting.push(run);
      }
      if (taken.jobs.length === 0 && q.wakeSeq === seq) {
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

  private async take(q: QueueState, max: number): Promise<TakeResult> {
    // Completions recorded so far ride along; on error they go back to the list (recording is idempotent).
    const completed = q.completed.splice(0, ACK_CHUNK);
    let reply: (string | number)[];
    q.taking = true;
    try {
      reply = (await takeScript.run(this.queue.redis, q.keys.all, [
        max,
        this.options.leaseMs,
        q.rate?.max ?? 0,
        q.rate?.intervalMs ?? 0,
        completed.join(','),
      ])) as (string | number)[];
    } catch (error) {
      q.completed.unshift(...completed);
      throw error;
    } finally {
      q.taking = false;
    }
    const reclaimed = Number(reply[1]);
    for (let i = 2; i < 2 + reclaimed * 2; i += 2) {
      const name = String(reply[i]);
      const dead = reply[i + 1] === 1;
      this.queue.metrics?.leaseExpired.labels(q.keys.queue, name).inc();
      if (dead) this.queue.metrics?.dead.labels(q.keys.queue, name).inc();
      this.queue.events.emit('leaseExpired', { queue: q.keys.queue, name, dead });
    }
    const jobs: Running[] = [];
    for (let i = 2 + reclaimed * 2; i < reply.length; i += 3) {
      jobs.push({
        queue: q,
        id: String(reply[i]),
        attempt: Number(reply[i + 1]),
        raw: String(reply[i + 2]),
        controller: null,
        abortReason: null,
        released: false,
      });
    }
    return { nextDueMs: Number(reply[0]), jobs };
  }

  private track(run: Running): void {
    run.queue.held.set(run.id, run);
    this.held++;
  }

  private untrack(run: Running): void {
    if (run.queue.held.delete(run.id)) this.held--;
  }

  private async execute(run: Running): Promise<void> {
    this.active++;
    const taken = run;
    const queueName = run.queue.keys.queue;
    const record = parseRecord(run.raw);
    const definition = this.definitions.get(record.n);
    const metrics = this.queue.metrics;
    const series = metrics && this.seriesFor(run.queue, record.n);
    const startedAt = performance.now();
    if (series) {
      series.started++;
      metrics.touch(series);
      series.wait.observe(Math.max(0, Date.now() - record.r) / 1000);
    }
    if (this.queue.events.listenerCount('started') > 0) {
      this.queue.events.emit('started', {
        queue: queueName,
        id: taken.id,
        name: record.n,
        attempt: taken.attempt,
        waitMs: Math.max(0, Date.now() - record.r),
      });
    }
    try {
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
      this.settle(run, taken.id);
      if (this.queue.events.listenerCount('completed') > 0) {
        this.queue.events.emit('completed', {
          queue: queueName,
          id: taken.id,
          name: record.n,
          attempt: taken.attempt,
          durationMs: seconds * 1000,
        });
      }
    } catch (error) {
      if (series) {
        series.run.observe((performance.now() - startedAt) / 1000);
        series.failed++;
        metrics.touch(series);
      }
      const text = errorText(error);
      // A permanent failure takes the same (batched, fenced) dead-letter path as a last attempt.
      const permanent = error instanceof PermanentJobError;
      const last = permanent || taken.attempt >= record.m;
      const retryInMs = last ? null : retryDelayMs(taken.attempt, definition?.backoff ?? DEFAULT_BACKOFF);
      const entry = JSON.stringify({ attempt: taken.attempt, at: Date.now(), error: text });
      this.settle(run, [last ? 'd' : 'r', taken.id, taken.attempt, retryInMs ?? 0, entry]);
      const event = { queue: queueName, id: taken.id, name: record.n, attempt: taken.attempt, error: text };
      this.queue.events.emit('failed', { ...event, retryInMs });
      if (last) {
        metrics?.dead.labels(queueName, record.n).inc();
        this.queue.events.emit('dead', event);
        this.queue.logger?.error(
          { ...event, permanent },
          permanent
            ? 'job dead-lettered: permanent failure, not retried'
            : 'job dead-lettered after its last attempt',
        );
      } else {
        metrics?.retried.labels(queueName, record.n).inc();
        this.queue.logger?.warn({ ...event, retryInMs }, 'job attempt failed; will retry');
      }
    } finally {
      this.untrack(run);
      this.active--;
      const next = this.state === 'running' ? this.waiting.shift() : undefined;
      if (next) void this.execute(next);
      this.notifySlot();
    }
  }

  /**
   * Queues an outcome for the next batched ack, unless the job was handed back meanwhile. While a take is in
   * flight, a completion waits for the take the loop sends next (one round trip fewer per batch); the loop
   * flushes it instead when it goes to wait. Failures always get their own ack.
   */
  private settle(run: Running, outcome: string | (string | number)[]): void {
    if (run.released) return;
    const q = run.queue;
    if (typeof outcome === 'string') {
      q.completed.push(outcome);
      if (q.taking && this.state === 'running') return;
    } else q.failures.push(...outcome);
    this.scheduleFlush(q);
  }

  /** Acks what is pending now (the loop is about to wait, so no take would carry it). */
  private flushIfPending(q: QueueState): void {
    if (pendingAcks(q) > 0) this.scheduleFlush(q);
  }

  private scheduleFlush(q: QueueState): void {
    if (!q.flushScheduled) {
      q.flushScheduled = true;
      setImmediate(() => {
        q.flushScheduled = false;
        void this.flush(q);
      });
    }
  }

  /** Sends queued acks; one flush at a time per queue, retried until Redis takes them (acks are idempotent). */
  private flush(q: QueueState): Promise<void> {
    q.flushing ??= (async () => {
      let errors = 0;
      while (pendingAcks(q) > 0 && Date.now() < this.flushDeadline) {
        // Taken off the lists while in flight (takes also carry completions); put back if Redis fails.
        const completed = q.completed.splice(0, ACK_CHUNK);
        const failures = q.failures.splice(0, FAILURE_CHUNK * 5);
        try {
          await ackScript.run(this.queue.redis, q.keys.all, [
            q.keys.wakeChannel,
            completed.join(','),
            ...failures,
          ]);
          errors = 0;
        } catch (error) {
          q.completed.unshift(...completed);
          q.failures.unshift(...failures);
          this.reportError(q, error);
          await delay(Math.min(2000, 50 * 2 ** errors++));
        }
      }
    })().finally(() => {
      q.flushing = null;
    });
    return q.flushing;
  }

  private async flushNow(q: QueueState): Promise<void> {
    while ((q.flushing || pendingAcks(q) > 0) && Date.now() < this.flushDeadline) {
      await (q.flushing ?? this.flush(q));
    }
    if (pendingAcks(q) > 0) {
      this.queue.logger?.warn(
        { queue: q.keys.queue, pending: pendingAcks(q) },
        'could not record job outcomes before exit; their leases will expire and the jobs run again',
      );
    }
  }

  private async extendLeases(): Promise<void> {
    for (const q of this.queues.values()) {
      const mine = [...q.held.values()].filter((job) => !job.released);
      if (mine.length === 0) continue;
      try {
        const lost = (await extendScript.run(this.queue.redis, q.keys.all, [
          this.options.leaseMs,
          ...mine.flatMap((job) => [job.id, job.attempt]),
        ])) as string[];
        for (const id of lost) {
          const job = q.held.get(id);
          if (job) abort(job, new Error('lease lost: another worker may run this job'));
        }
      } catch (error) {
        this.reportError(q, error);
      }
    }
  }

  private wake(q: QueueState): void {
    q.wakeSeq++;
    q.wake?.();
  }

  private notifySlot(): void {
    const waiters = this.slotWaiters;
    this.slotWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private idle(q: QueueState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        q.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      q.wake = done;
    });
  }

  /** The metric series of a job of `q`, looked up once per job name (no label strings built per job). */
  private seriesFor(q: QueueState, job: string): JobSeries | undefined {
    let series = q.series.get(job);
    if (!series && this.queue.metrics) {
      series = this.queue.metrics.series(q.keys.queue, job);
      q.series.set(job, series);
    }
    return series;
  }

  private reportError(q: QueueState | null, error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const queue = q?.keys.queue ?? '*';
    this.queue.logger?.warn({ queue, err: err.message }, 'job worker Redis error; retrying');
    if (this.queue.events.listenerCount('workerError') > 0)
      this.queue.events.emit('workerError', { queue, error: err });
  }
}

interface TakeResult {
  nextDueMs: number;
  jobs: Running[];
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
