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
  t = await openTestRedis('jobs-shutdown');
});
afterAll(async () => {
  for (const { child } of children) child.kill('SIGKILL');
  await t.close();
});

async function startAndTerminate(queueName: string, env: Record<string, string>) {
  const queue = new JobQueue({ redis: t.redis, prefix: t.prefix });
  const job = defineJob('record', z.object({ n: z.number() }), () => Promise.resolve(), { queue: queueName });
  await queue.enqueueMany(
    job,
    Array.from({ length: 8 }, (_, n) => ({ n })),
  );
  const worker = await spawnTestWorker({
    REDIS_URL: testRedisUrl(),
    PREFIX: t.prefix,
    QUEUE: queueName,
    CONCURRENCY: '4',
    ...env,
  });
  children.push(worker);
  const keys = queue.keys(queueName);
  await waitFor('4 jobs in flight', async () => (await queue.stats([queueName]))[queueName].leased >= 4);
  worker.child.kill('SIGTERM');
  const code = await worker.exited;
  return { queue, keys, code, runs: await t.redis.hgetall(`${t.prefix}runs`) };
}

describe('SIGTERM while jobs run', () => {
  it('lets in-flight jobs finish within the deadline, takes no more, and exits 0', async () => {
    const { queue, code, runs } = await startAndTerminate('short', {
      JOB_MS: '300',
      SHUTDOWN_MS: '5000',
      PREFETCH: '0', // exactly the 4 running jobs are leased when SIGTERM comes
    });
    expect(code).toBe(0);
    expect(Object.keys(runs)).toHaveLength(4);
    expect((await queue.stats(['short'])).short).toEqual({ ready: 4, delayed: 0, leased: 0, dead: 0 });
  });

  it('hands unfinished and prefetched jobs back at once (no lease wait, attempt not counted), and exits 0', async () => {
    await t.redis.del(`${t.prefix}runs`);
    const { queue, keys, code, runs } = await startAndTerminate('long', {
      JOB_MS: '60000',
      SHUTDOWN_MS: '200',
      LEASE_MS: '60000',
      HONOUR_SIGNAL: '1',
    });
    expect(code).toBe(0);
    expect(runs).toEqual({});
    expect((await queue.stats(['long'])).long).toEqual({ ready: 8, delayed: 0, leased: 0, dead: 0 });
    // No attempt was counted: the next run is attempt 1 again.
    expect(await t.redis.hlen(keys.attempts)).toBe(0);
    expect(await t.redis.hlen(keys.jobs)).toBe(8);
  });
});
