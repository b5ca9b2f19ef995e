import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from './job-definition';
import { JobQueue } from './job-queue';
import { recordHeader } from './job-record';
import { ackScript, enqueueScript, extendScript, releaseScript, takeScript } from './queue-scripts';
import { queueRedisCheck } from './queue-redis-check';
import { openTestRedis, sleep, waitFor, type JobsTestRedis } from './testing/jobs-test-support';
import { startOwnRedis, type OwnRedis } from './testing/own-redis';

/*
 * Item 2 of issue 7: completions, failures, renewals and hand-backs are fenced by a token per take; ids never
 * repeat; enqueue and take are safe against re-sent commands; a worker that cannot renew its lease aborts the
 * handler's signal; a Redis restart under a worker loses no job and no stale ack deletes a new job.
 */

let t: JobsTestRedis;
let queue: JobQueue;
const owned: OwnRedis[] = [];
const clients: Redis[] = [];
let seq = 0;
const nextQueue = (): string => `f${++seq}`;

beforeAll(async () => {
  t = await openTestRedis('jobs-fencing');
  queue = new JobQueue({ redis: t.redis, prefix: t.prefix });
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  for (const own of owned) await own.stop();
  await t.close();
});

const noop = (q: string) =>
  defineJob('noop', z.object({ n: z.number() }), () => Promise.resolve(), { queue: q });

async function take(q: string, token: string, max = 10): Promise<{ id: string; attempt: number }[]> {
  const reply = (await takeScript.run(t.redis, queue.keys(q).all, [
    token,
    max,
    30_000,
    0,
    0,
    '',
  ])) as unknown[];
  const jobs: { id: string; attempt: number }[] = [];
  for (let i = 2 + Number(reply[1]) * 2; i < reply.length; i += 3) {
    jobs.push({ id: String(reply[i]), attempt: Number(reply[i + 1]) });
  }
  return jobs;
}

/** A client with ioredis defaults (it re-sends unanswered commands after a reconnect, no command time-out). */
function defaultClient(url: string): Redis {
  const client = new Redis(url);
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

describe('fencing by take token', () => {
  it('a stale token (its lease expired and the job was taken again) completes, fails, renews and hands back nothing', async () => {
    const q = nextQueue();
    const keys = queue.keys(q);
    const [{ id }] = await queue.enqueueMany(noop(q), [{ n: 1 }]);
    expect(await take(q, 'old')).toEqual([{ id, attempt: 1 }]);
    await t.redis.zadd(keys.leases, 0, 'old'); // the old lease expires
    expect(await take(q, 'new')).toEqual([{ id, attempt: 2 }]);

    const entry = JSON.stringify({ attempt: 1, at: 0, error: 'late' });
    expect(
      await ackScript.run(t.redis, keys.all, [keys.wakeChannel, `old:${id}`, 'd', 'old', id, 0, entry]),
    ).toBe(2);
    expect(await extendScript.run(t.redis, keys.all, [30_000, 'old'])).toEqual(['old']);
    expect(await releaseScript.run(t.redis, keys.all, [keys.wakeChannel, 'old', id])).toBe(0);
    expect(await t.redis.hexists(keys.jobs, id)).toBe(1);
    expect((await queue.stats([q]))[q]).toEqual({ ready: 0, delayed: 0, leased: 1, dead: 0 });

    expect(await ackScript.run(t.redis, keys.all, [keys.wakeChannel, `new:${id}`])).toBe(0);
    expect(await t.redis.hexists(keys.jobs, id)).toBe(0);
  });

  it('ids never repeat and sort by enqueue time', async () => {
    const q = nextQueue();
    const first = await queue.enqueueMany(noop(q), [{ n: 1 }, { n: 2 }]);
    const second = await new JobQueue({ redis: t.redis, prefix: t.prefix }).enqueueMany(noop(q), [{ n: 3 }]);
    const ids = [...first, ...second].map((r) => r.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids[0] < ids[1]).toBe(true);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('re-sent commands', () => {
  it('a second run of the same enqueue call (same call id) adds nothing and answers like the first', async () => {
    const q = nextQueue();
    const keys = queue.keys(q);
    const id = '01900000-0000-7000-8000-000000000001';
    const record = `${recordHeader('noop', 0, 10, 0, 0, 'u:1')}{"n":1}`;
    const args = [keys.wakeChannel, 1, `u:1\x000\x000\x00${id}\x00${record}`, '1', id, 0];
    expect(await enqueueScript.run(t.redis, keys.all, args)).toEqual([]);
    expect(await enqueueScript.run(t.redis, keys.all, args)).toEqual([]);
    expect((await queue.stats([q]))[q].ready).toBe(1);
    expect(await t.redis.hlen(keys.jobs)).toBe(1);
  });

  it('a second run of the same take (same token) returns the same jobs and leases no more', async () => {
    const q = nextQueue();
    await queue.enqueueMany(noop(q), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const first = await take(q, 'tok', 2);
    const again = await take(q, 'tok', 2);
    expect(again).toEqual(first);
    expect((await queue.stats([q]))[q]).toMatchObject({ ready: 1, leased: 2 });
  });
});

describe('Redis restarted under a worker', () => {
  it('with AOF: no job lost, and jobs enqueued after the restart all run', async () => {
    const own = await startOwnRedis({ appendonly: true });
    owned.push(own);
    const redis = defaultClient(own.url);
    const jobs = new JobQueue({ redis, prefix: 'aof:' });
    const ran = new Set<number>();
    const job = defineJob(
      'count',
      z.object({ n: z.number() }),
      async ({ n }) => {
        await sleep(10);
        ran.add(n);
      },
      { queue: 'aof', maxAttempts: 50, backoff: { baseMs: 10, maxMs: 50 } },
    );
    await jobs.enqueueMany(
      job,
      Array.from({ length: 300 }, (_, n) => ({ n })),
    );
    const worker = jobs.createWorker({ jobs: [job], concurrency: 5, leaseMs: 1000, pollIntervalMs: 200 });
    await worker.start();
    await waitFor('100 jobs to run', () => ran.size >= 100);
    await own.restart();
    expect(ran.size).toBeLessThan(300); // the restart came mid-run
    await jobs.enqueueMany(
      job,
      Array.from({ length: 100 }, (_, i) => ({ n: 300 + i })),
    );
    await waitFor('all 400 jobs to run', () => ran.size === 400, { timeoutMs: 30_000 });
    await waitFor('the queue to be empty', async () => {
      const depth = (await jobs.stats(['aof'])).aof;
      return depth.ready + depth.delayed + depth.leased + depth.dead === 0;
    });
    await worker.stop();
  }, 60_000);

  it('without persistence: stale completions of old jobs never delete the new jobs', async () => {
    const own = await startOwnRedis({ appendonly: false });
    owned.push(own);
    const redis = defaultClient(own.url);
    const jobs = new JobQueue({ redis, prefix: 'mem:' });
    const ran: string[] = [];
    const job = defineJob(
      'slow',
      z.object({ label: z.string() }),
      async ({ label }) => {
        await sleep(label.startsWith('old') ? 800 : 5);
        ran.push(label);
      },
      { queue: 'mem' },
    );
    await jobs.enqueueMany(
      job,
      Array.from({ length: 4 }, (_, i) => ({ label: `old-${i}` })),
    );
    const worker = jobs.createWorker({ jobs: [job], concurrency: 8, prefetch: 0, pollIntervalMs: 100 });
    await worker.start();
    await waitFor('4 old jobs in flight', () => worker.inFlight === 4);
    await own.restart(); // every key is gone: the old jobs' leases and records too
    // Delayed, so they still wait when the old handlers finish and send their (stale) completions.
    const fresh = await jobs.enqueueMany(
      job,
      Array.from({ length: 8 }, (_, i) => ({ label: `new-${i}` })),
      { delayMs: 1500 },
    );
    await waitFor(
      'the old handlers to finish and ack',
      () => ran.filter((l) => l.startsWith('old')).length === 4,
    );
    await waitFor('every new job to run', () => ran.filter((l) => l.startsWith('new')).length === 8, {
      timeoutMs: 20_000,
    });
    expect(new Set(fresh.map((r) => r.id)).size).toBe(8);
    await waitFor('the queue to be empty', async () => (await redis.hlen(jobs.keys('mem').jobs)) === 0);
    await worker.stop();
  }, 60_000);
});

describe('the local lease deadline', () => {
  it('aborts the handler signal when the lease could not be renewed in time (Redis unresponsive)', async () => {
    const own = await startOwnRedis({ appendonly: false });
    owned.push(own);
    const redis = defaultClient(own.url);
    const jobs = new JobQueue({ redis, prefix: 'lease:' });
    let reason: unknown = null;
    let started = false;
    const job = defineJob(
      'waits',
      z.object({}),
      async (_p, { signal }) => {
        started = true;
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        reason = signal.reason;
      },
      { queue: 'lease' },
    );
    await jobs.enqueue(job, {});
    const worker = jobs.createWorker({ jobs: [job], leaseMs: 600, pollIntervalMs: 100 });
    await worker.start();
    await waitFor('the job to start', () => started);
    own.pause();
    try {
      await waitFor('the signal to abort', () => reason !== null, { timeoutMs: 5000 });
    } finally {
      own.resume();
    }
    expect(String(reason)).toMatch(/could not be renewed in time/);
    await worker.stop();
  }, 30_000);
});

describe('what the queue needs from Redis', () => {
  it('readiness fails on an evicting maxmemory-policy, warns without persistence, passes with AOF', async () => {
    const lru = await startOwnRedis({ appendonly: true, args: ['--maxmemory-policy', 'allkeys-lru'] });
    owned.push(lru);
    await expect(queueRedisCheck({ redis: defaultClient(lru.url) }).run()).rejects.toThrow(
      /maxmemory-policy is allkeys-lru/,
    );
    const memory = await startOwnRedis({ appendonly: false });
    owned.push(memory);
    expect(await queueRedisCheck({ redis: defaultClient(memory.url) }).run()).toMatchObject({
      status: 'warn',
      output: expect.stringMatching(/persistence is off/),
    });
    // Managed Redis often disables CONFIG: the check reads INFO instead.
    const managed = await startOwnRedis({ appendonly: true, args: ['--rename-command', 'CONFIG', '""'] });
    owned.push(managed);
    const managedClient = defaultClient(managed.url);
    await expect(managedClient.config('GET', 'maxmemory-policy')).rejects.toThrow(/unknown command/);
    expect(await queueRedisCheck({ redis: managedClient }).run()).toMatchObject({ status: 'pass' });
  }, 30_000);
});
