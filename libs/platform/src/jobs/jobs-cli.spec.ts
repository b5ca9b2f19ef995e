import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testRedisUrl } from '../testing/test-redis';
import { defineJob } from './job-definition';
import { JobQueue } from './job-queue';
import { runJobsCli } from './jobs-cli';
import { openTestRedis, waitFor, type JobsTestRedis } from './testing/jobs-test-support';

let t: JobsTestRedis;
let queue: JobQueue;
beforeAll(async () => {
  t = await openTestRedis('jobs-cli');
  queue = new JobQueue({ redis: t.redis, prefix: t.prefix });
});
afterAll(() => t.close());

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runJobsCli(args, {
    env: { REDIS_URL: testRedisUrl(), JOBS_PREFIX: t.prefix, EVENTS_PREFIX: `${t.prefix}events:` },
    out: (text) => (out += text),
    err: (text) => (err += text),
  });
  return { code, out, err };
}

describe('jobs CLI', () => {
  it('mounts the events commands: dead-lettered events of a subscription, usage errors exit 64', async () => {
    const listed = await cli('events', 'dead', 'list', '--topic', 'applet-saved', '--subscription', 'poller');
    expect(listed).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(listed.out)).toEqual([]);
    expect(
      (await cli('events', 'dead', 'retry', '--topic', 'applet-saved', '--subscription', 'poller')).code,
    ).toBe(64);
  });

  it('shows stats, lists, retries and purges dead jobs', async () => {
    const job = defineJob('cli-fails', z.object({ n: z.number() }), () => Promise.reject(new Error('nope')), {
      queue: 'cli',
      maxAttempts: 1,
    });
    const [first] = await queue.enqueueMany(job, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const worker = queue.createWorker({ jobs: [job] });
    await worker.start();
    await waitFor('3 dead jobs', async () => (await queue.stats(['cli'])).cli.dead === 3);
    await worker.stop();

    const stats = await cli('stats');
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.out)).toEqual({ cli: { ready: 0, delayed: 0, leased: 0, dead: 3 } });

    const list = await cli('dead', 'list', '--queue', 'cli', '--limit', '2');
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.out) as { payload: unknown; failures: { error: string }[] }[];
    expect(listed.map((d) => d.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(listed[0].failures[0].error).toBe('Error: nope');

    expect(JSON.parse((await cli('dead', 'retry', first.id, '--queue', 'cli')).out)).toEqual({
      queue: 'cli',
      retried: 1,
    });
    expect(JSON.parse((await cli('dead', 'purge', '--all', '--queue', 'cli')).out)).toEqual({
      queue: 'cli',
      purged: 2,
    });
    expect((await queue.stats(['cli'])).cli).toEqual({ ready: 1, delayed: 0, leased: 0, dead: 0 });
  });

  it('refuses ambiguous or missing selections with a usage error, and reports Redis failures', async () => {
    const purge = await cli('dead', 'purge', '--queue', 'cli');
    expect(purge).toMatchObject({ code: 64, err: 'give job ids or --all\n' });
    expect((await cli('dead', 'retry', 'abc', '--queue', 'cli')).code).toBe(64);
    expect((await cli('dead', 'list')).code).toBe(64);
    for (const limit of ['0x10', '1e3', '', ' 5'])
      expect(await cli('dead', 'list', '--queue', 'cli', '--limit', limit)).toMatchObject({
        code: 64,
        err: `expected a non-negative integer, got "${limit}"\n`,
      });
    let err = '';
    const code = await runJobsCli(['stats'], {
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
      err: (text) => (err += text),
      out: () => undefined,
    });
    expect(code).toBe(1);
    expect(err).toMatch(/^jobs: /);
  });
});
