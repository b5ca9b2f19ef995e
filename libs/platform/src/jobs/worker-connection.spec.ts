import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testRedisUrl } from '../testing/test-redis';
import { defineJob } from './job-definition';
import { JobQueue } from './job-queue';
import { openTestRedis, sleep, waitFor, type JobsTestRedis } from './testing/jobs-test-support';

let t: JobsTestRedis;
beforeAll(async () => {
  t = await openTestRedis('jobs-connection');
});
afterAll(() => t.close());

/**
 * Kills only the connections named `name` (CLIENT SETNAME via ioredis `connectionName`). `CLIENT KILL TYPE
 * normal` would also cut every other test file's clients on the shared Redis, so this test never uses it.
 */
async function killConnections(admin: Redis, name: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  for (const id of ids) await admin.client('KILL', 'ID', id);
  return ids.length;
}

describe('Redis connections killed mid-run', () => {
  it('the worker reconnects by itself and every job completes', async () => {
    const name = `jobs-conn-${randomBytes(4).toString('hex')}`;
    const redis = new Redis(testRedisUrl(), { connectionName: name });
    redis.on('error', () => undefined);
    const queue = new JobQueue({
      redis,
      prefix: t.prefix,
      createConnection: () => {
        const subscriber = redis.duplicate({ connectionName: name });
        subscriber.on('error', () => undefined);
        return subscriber;
      },
    });
    const done = new Set<number>();
    const job = defineJob(
      'conn',
      z.object({ n: z.number() }),
      async ({ n }) => {
        await sleep(5);
        done.add(n);
      },
      { queue: 'conn', maxAttempts: 50, backoff: { baseMs: 10, maxMs: 100 } },
    );
    const total = 600;
    await new JobQueue({ redis: t.redis, prefix: t.prefix }).enqueueMany(
      job,
      Array.from({ length: total }, (_, n) => ({ n })),
    );
    const worker = queue.createWorker({ jobs: [job], concurrency: 10, leaseMs: 1000, pollIntervalMs: 200 });
    await worker.start();

    let killed = 0;
    for (let round = 0; round < 5 && done.size < total; round++) {
      await sleep(150);
      killed += await killConnections(t.redis, name);
    }
    expect(killed).toBeGreaterThanOrEqual(2);
    await waitFor('every job to complete', () => done.size === total, { timeoutMs: 30_000 });
    // Jobs enqueued after the cuts wake the re-subscribed worker too.
    await queue.enqueue(job, { n: total });
    await waitFor('a job enqueued after the cuts', () => done.has(total));
    await worker.stop();
    await waitFor('acks to land', async () => (await t.redis.hlen(queue.keys('conn').jobs)) === 0);
    await redis.quit();
  }, 60_000);
});
