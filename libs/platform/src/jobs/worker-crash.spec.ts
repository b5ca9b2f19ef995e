import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testRedisUrl } from '../testing/test-redis';
import { defineJob } from './job-definition';
import { JobQueue } from './job-queue';
import { openTestRedis, waitFor, type JobsTestRedis } from './testing/jobs-test-support';
import { spawnTestWorker, type TestWorker } from './testing/spawn-test-worker';

let t: JobsTestRedis;
const children: TestWorker[] = [];

beforeAll(async () => {
  t = await openTestRedis('jobs-crash');
});
afterAll(async () => {
  for (const { child } of children) child.kill('SIGKILL');
  await t.close();
});

// Same name, schema and queue as the job in testing/test-worker-process.ts; only enqueued from here.
const recordJob = defineJob('record', z.object({ n: z.number() }), () => Promise.resolve(), {
  queue: 'crash',
});

describe('a worker killed with SIGKILL mid-run', () => {
  it('loses no job; only jobs in flight at a kill run twice', async () => {
    const queue = new JobQueue({ redis: t.redis, prefix: t.prefix });
    const total = 400;
    const ids = (
      await queue.enqueueMany(
        recordJob,
        Array.from({ length: total }, (_, n) => ({ n })),
      )
    ).map((r) => r.id);
    const keys = queue.keys('crash');
    const runs = async (): Promise<Record<string, string>> => t.redis.hgetall(`${t.prefix}runs`);
    const env = {
      REDIS_URL: testRedisUrl(),
      PREFIX: t.prefix,
      LEASE_MS: '1000',
      JOB_MS: '25',
      CONCURRENCY: '8',
    };

    const inFlightAtKill = new Set<string>();
    for (let kill = 0; kill < 3; kill++) {
      const before = Object.keys(await runs()).length;
      const worker = await spawnTestWorker(env);
      children.push(worker);
      await waitFor(
        'the worker to complete 40 more jobs',
        async () => Object.keys(await runs()).length >= before + 40,
      );
      worker.child.kill('SIGKILL');
      await worker.exited;
      // What the dead worker held: leased and not acked (including jobs whose run was recorded but not acked),
      // as the takes hash records it (take token -> "id,id,...").
      for (const packed of await t.redis.hvals(keys.takes)) {
        for (const id of packed.split(',')) inFlightAtKill.add(id);
      }
    }
    expect(inFlightAtKill.size).toBeGreaterThan(0);

    const last = await spawnTestWorker(env);
    children.push(last);
    await waitFor('every job to complete', async () => Object.keys(await runs()).length === total, {
      timeoutMs: 30_000,
    });
    await waitFor('the queue to be empty', async () => (await t.redis.hlen(keys.jobs)) === 0);
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);

    const counts = await runs();
    expect(Object.keys(counts).sort()).toEqual([...ids].sort());
    const duplicates = Object.entries(counts)
      .filter(([, count]) => Number(count) > 1)
      .map(([id]) => id);
    for (const id of duplicates) expect(inFlightAtKill).toContain(id);
    expect((await queue.stats(['crash'])).crash).toEqual({ ready: 0, delayed: 0, leased: 0, dead: 0 });
  }, 90_000);
});
