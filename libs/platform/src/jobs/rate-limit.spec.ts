import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from './job-definition';
import { JobQueue } from './job-queue';
import type { JobWorker } from './job-worker';
import { openTestRedis, sleep, waitFor, type JobsTestRedis } from './testing/jobs-test-support';
import { spawnTestWorker, type TestWorker } from './testing/spawn-test-worker';
import { testRedisUrl } from '../testing/test-redis';

/*
 * Item 3 of issue 7: at most `max` starts in any window of `intervalMs`, with prefetch, retries, reclaims
 * and hand-backs. Starts are recorded where the handler begins (local clock); the limit is kept in Redis at take
 * time (Redis clock), and a job starts one reply latency after its take, so two starts may look closer than
 * the takes were by the difference of two reply latencies: a few ms on a quiet machine, 30 ms seen in CI
 * under load (970 ms apart for a 1,000 ms window). The windows are checked with GAP_MS of allowance, still far
 * below what a start let through by mistake shows (it comes at once, in the same window).
 */
const GAP_MS = 100;

let t: JobsTestRedis;
let queue: JobQueue;
const workers: JobWorker[] = [];
let seq = 0;
const nextQueue = (): string => `r${++seq}`;

beforeAll(async () => {
  t = await openTestRedis('jobs-rate');
  queue = new JobQueue({ redis: t.redis, prefix: t.prefix });
});
const children: TestWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  for (const child of children.splice(0)) if (child.child.exitCode === null) child.child.kill('SIGKILL');
});
afterAll(() => t.close());

/** Fails unless every window of `intervalMs` holds at most `max` of `starts`. */
function expectEveryWindow(starts: number[], max: number, intervalMs: number): void {
  const sorted = [...starts].sort((a, b) => a - b);
  for (let i = 0; i + max < sorted.length; i++) {
    expect(
      sorted[i + max] - sorted[i],
      `starts ${i}..${i + max} at ${sorted.join(', ')}`,
    ).toBeGreaterThanOrEqual(intervalMs - GAP_MS);
  }
}

describe('rate limit: starts, not leases', () => {
  it('the issue 7 input: concurrency 2, max 2 per 1,000 ms, the first two jobs run 1,900 ms', async () => {
    const q = nextQueue();
    const starts: number[] = [];
    const job = defineJob(
      'slow-then-fast',
      z.object({ i: z.number() }),
      async ({ i }) => {
        starts.push(Date.now());
        if (i < 2) await sleep(1900);
      },
      { queue: q },
    );
    await queue.enqueueMany(
      job,
      Array.from({ length: 8 }, (_, i) => ({ i })),
    );
    const worker = queue.createWorker({
      jobs: [job],
      concurrency: 2,
      rateLimits: { [q]: { max: 2, intervalMs: 1000 } },
      pollIntervalMs: 100,
    });
    workers.push(worker);
    await worker.start();
    await waitFor('8 starts', () => starts.length === 8, { timeoutMs: 20_000 });
    expectEveryWindow(starts, 2, 1000);
  }, 30_000);

  it('retries count as starts, and a prefetching worker of another queue does not change that', async () => {
    const q = nextQueue();
    const other = nextQueue();
    const starts: number[] = [];
    const failedOnce = new Set<number>();
    const job = defineJob(
      'flaky',
      z.object({ i: z.number() }),
      async ({ i }) => {
        starts.push(Date.now());
        if (!failedOnce.has(i)) {
          failedOnce.add(i);
          throw new Error('first attempt fails');
        }
      },
      { queue: q, backoff: { baseMs: 10, maxMs: 20 } },
    );
    const plain = defineJob('plain', z.object({}), () => sleep(5), { queue: other });
    await queue.enqueueMany(
      job,
      Array.from({ length: 5 }, (_, i) => ({ i })),
    );
    await queue.enqueueMany(
      plain,
      Array.from({ length: 50 }, () => ({})),
    );
    const worker = queue.createWorker({
      jobs: [job, plain],
      concurrency: 4,
      prefetch: 20,
      rateLimits: { [q]: { max: 3, intervalMs: 500 } },
      pollIntervalMs: 100,
    });
    workers.push(worker);
    await worker.start();
    await waitFor('10 starts (5 jobs, 2 attempts each)', () => starts.length === 10, { timeoutMs: 20_000 });
    expectEveryWindow(starts, 3, 500);
  }, 30_000);

  it('reclaims count as starts: jobs of a killed worker taken over after their lease join the same window', async () => {
    const q = nextQueue();
    const starts: number[] = [];
    // The same job as the test worker process runs (name, queue), recording its starts here.
    const job = defineJob(
      'record',
      z.object({ n: z.number() }),
      async () => {
        starts.push(Date.now());
      },
      { queue: q, maxAttempts: 50 },
    );
    await queue.enqueueMany(
      job,
      Array.from({ length: 6 }, (_, n) => ({ n })),
    );
    // A worker process takes two (the window's whole budget) and is killed in the middle of them.
    const doomed = await spawnTestWorker({
      REDIS_URL: testRedisUrl(),
      PREFIX: t.prefix,
      QUEUE: q,
      LEASE_MS: '1000',
      JOB_MS: '60000',
      CONCURRENCY: '2',
      RATE_MAX: '2',
      RATE_INTERVAL_MS: '1000',
    });
    children.push(doomed);
    const keys = queue.keys(q);
    await waitFor('the doomed worker to hold two jobs', async () => {
      const held = (await t.redis.hvals(keys.takes)).flatMap((packed) => packed.split(','));
      return held.length === 2;
    });
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // This worker could start 4 at once; the two reclaimed jobs must count against the same limit as the rest.
    const worker = queue.createWorker({
      jobs: [job],
      concurrency: 4,
      leaseMs: 1000,
      rateLimits: { [q]: { max: 2, intervalMs: 1000 } },
      pollIntervalMs: 100,
    });
    workers.push(worker);
    await worker.start();
    await waitFor('all 6 jobs to start here (2 reclaimed, 4 fresh)', () => starts.length === 6, {
      timeoutMs: 20_000,
    });
    expectEveryWindow(starts, 2, 1000);
  }, 30_000);

  it('hand-backs count as starts: jobs a stopping worker hands back do not free the starts it used', async () => {
    const q = nextQueue();
    const starts: number[] = [];
    const job = defineJob(
      'held',
      z.object({ n: z.number() }),
      async (_payload, { signal }) => {
        starts.push(Date.now());
        // The first two starts hang until their worker's stop gives up on them and hands them back.
        if (starts.length <= 2)
          await new Promise<void>((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason as Error)),
          );
      },
      { queue: q, maxAttempts: 50 },
    );
    await queue.enqueueMany(
      job,
      Array.from({ length: 6 }, (_, n) => ({ n })),
    );
    const options = { jobs: [job], leaseMs: 5000, rateLimits: { [q]: { max: 2, intervalMs: 1000 } } };
    const first = queue.createWorker({
      ...options,
      concurrency: 2,
      shutdownTimeoutMs: 200,
      pollIntervalMs: 100,
    });
    await first.start();
    await waitFor('the first worker to start two', () => starts.length === 2);
    await first.stop();
    const second = queue.createWorker({ ...options, concurrency: 4, pollIntervalMs: 100 });
    workers.push(second);
    await second.start();
    await waitFor('the other 6 starts (2 handed back, 4 fresh)', () => starts.length === 8, {
      timeoutMs: 20_000,
    });
    expectEveryWindow(starts, 2, 1000);
  }, 30_000);

  it('a busy queue with prefetch does not starve a rate-limited queue of the same worker', async () => {
    const busy = nextQueue();
    const limited = nextQueue();
    let busyDone = 0;
    const limitedDone: number[] = [];
    const slow = defineJob(
      'busy',
      z.object({}),
      async () => {
        await sleep(10);
        busyDone++;
      },
      { queue: busy },
    );
    const partner = defineJob(
      'limited',
      z.object({ i: z.number() }),
      async ({ i }) => {
        limitedDone.push(i);
      },
      { queue: limited },
    );
    await queue.enqueueMany(
      slow,
      Array.from({ length: 300 }, () => ({})),
    );
    await queue.enqueueMany(
      partner,
      Array.from({ length: 5 }, (_, i) => ({ i })),
    );
    const worker = queue.createWorker({
      jobs: [slow, partner],
      concurrency: 4,
      rateLimits: { [limited]: { max: 100, intervalMs: 1000 } },
      pollIntervalMs: 100,
    });
    workers.push(worker);
    await worker.start();
    await waitFor('the rate-limited jobs to run', () => limitedDone.length === 5, { timeoutMs: 20_000 });
    // 300 busy jobs of 10 ms on 4 slots take about 750 ms: the limited queue got slots long before that.
    expect(busyDone).toBeLessThan(300);
  }, 30_000);
});
