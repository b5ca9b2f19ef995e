import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from './job-definition';
import { JobQueue } from './job-queue';
import type { JobWorker } from './job-worker';
import { openTestRedis, sleep, waitFor, type JobsTestRedis } from './testing/jobs-test-support';

/*
 * Item 3 of issue 7: at most `max` starts in any window of `intervalMs`, with prefetch, retries and
 * hand-backs. Starts are recorded where the handler begins (local clock); the limit is kept in Redis at take
 * time (Redis clock), and a job starts one reply latency after its take, so two starts may look up to GAP_MS
 * closer than the takes were: the windows are checked with that allowance.
 */
const GAP_MS = 15;

let t: JobsTestRedis;
let queue: JobQueue;
const workers: JobWorker[] = [];
let seq = 0;
const nextQueue = (): string => `r${++seq}`;

beforeAll(async () => {
  t = await openTestRedis('jobs-rate');
  queue = new JobQueue({ redis: t.redis, prefix: t.prefix });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
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
