import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedisUrl } from '../testing/test-redis';
import { openTestRedis, sleep, waitFor, type JobsTestRedis } from '../jobs/testing/jobs-test-support';
import {
  listSchedules,
  schedule,
  schedulesAsJobs,
  type ScheduleDefinition,
  type ScheduleRun,
} from './schedule-definition';
import { Scheduler } from './scheduler';

let t: JobsTestRedis;
const clients: Redis[] = [];
beforeAll(async () => {
  t = await openTestRedis('schedules');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit()));
  await t.close();
});

/** One replica's scheduler, with its own Redis connection like a separate process would have. */
function replica<C>(schedules: readonly ScheduleDefinition<C>[], context: C): Scheduler<C> {
  const redis = new Redis(testRedisUrl());
  clients.push(redis);
  return new Scheduler({ redis, schedules, context, prefix: t.prefix, shutdownTimeoutMs: 1000 });
}

describe('schedule declarations', () => {
  it('lists schedules as plain data for deploy tooling, and refuses bad cron, zones and duplicates', () => {
    const a = schedule('nightly-purge', '0 3 * * *', () => Promise.resolve(), {
      timezone: 'Europe/Paris',
      description: 'purge disabled applets',
    });
    const b = schedule('poll', '*/5 * * * *', () => Promise.resolve());
    expect(listSchedules([a, b])).toEqual([
      {
        name: 'nightly-purge',
        cron: '0 3 * * *',
        timezone: 'Europe/Paris',
        description: 'purge disabled applets',
      },
      { name: 'poll', cron: '*/5 * * * *', timezone: 'UTC', description: '' },
    ]);
    expect(() => schedule('x', '61 * * * *', () => Promise.resolve())).toThrow(/invalid cron/);
    expect(() => schedule('x', '* * * * *', () => Promise.resolve(), { timezone: 'Mars/Olympus' })).toThrow(
      /timezone/,
    );
    expect(() => listSchedules([b, b])).toThrow(/declared twice/);
  });

  it('makes every schedule runnable by name once (run-job), with the service context', async () => {
    const seen: [string, ScheduleRun['catchUp']][] = [];
    const s = schedule<{ tag: string }>('report', '0 8 * * 1', async (ctx, run) => {
      seen.push([ctx.tag, run.catchUp]);
    });
    const jobs = schedulesAsJobs([s]);
    expect(Object.keys(jobs)).toEqual(['report']);
    await jobs.report({ tag: 'ctx' });
    expect(seen).toEqual([['ctx', false]]);
  });
});

describe('Scheduler', () => {
  it('fires each tick exactly once across three replicas, including across a restart', async () => {
    const key = `${t.prefix}fired`;
    const every = schedule(
      'every-second',
      '*/1 * * * * *',
      async (_ctx, { tick }) => {
        await t.redis.hincrby(key, tick.toISOString(), 1);
      },
      { missed: 'skip' },
    );
    // The three replicas share this process: a stall of the whole process past a tick (a loaded CI machine)
    // makes every replica plan past it, which is by design (`plan` never fires a tick twice), not a lost tick.
    const stalls = monitorEventLoopDelay({ resolution: 20 });
    stalls.enable();
    const replicas = [replica([every], undefined), replica([every], undefined), replica([every], undefined)];
    await Promise.all(replicas.map((r) => r.start()));
    await sleep(2200);
    // Restart one replica mid-run: it must not fire a tick the others already fired.
    await replicas[0].stop();
    replicas[0] = replica([every], undefined);
    await replicas[0].start();
    await sleep(1600);
    await Promise.all(replicas.map((r) => r.stop()));
    stalls.disable();

    const fired = await t.redis.hgetall(key);
    expect(Object.keys(fired).length).toBeGreaterThanOrEqual(3);
    expect(Object.values(fired).every((count) => count === '1')).toBe(true);
    const ticks = Object.keys(fired)
      .map((iso) => Date.parse(iso))
      .sort((a, b) => a - b);
    expect(ticks.every((tick) => tick % 1000 === 0)).toBe(true);
    // No tick was lost either: they are consecutive seconds, unless the process itself stalled for most of a
    // second (then a skipped tick is the scheduler's documented behaviour, and the check would say nothing).
    if (stalls.max / 1e6 < 800) ticks.slice(1).forEach((tick, i) => expect(tick - ticks[i]).toBe(1000));
  });

  it('a last-tick key holding garbage (not a number, or not a string) does not stop the schedule', async () => {
    const fired: string[] = [];
    const a = schedule('garbage-a', '*/1 * * * * *', async (_ctx, { name }) => {
      fired.push(name);
    });
    const b = schedule('garbage-b', '*/1 * * * * *', async (_ctx, { name }) => {
      fired.push(name);
    });
    const probe = replica([a, b], undefined);
    await t.redis.set(probe.lastTickKey('garbage-a'), 'not a number');
    await t.redis.hset(probe.lastTickKey('garbage-b'), 'field', 'value');
    await probe.start();
    await waitFor(
      'both schedules to fire',
      () => fired.includes('garbage-a') && fired.includes('garbage-b'),
      {
        timeoutMs: 5000,
      },
    );
    await probe.stop();
  });

  it('runs the latest missed tick once after downtime with run-once, and none with skip', async () => {
    const runs: ScheduleRun[] = [];
    const record = async (_ctx: void, run: ScheduleRun): Promise<void> => {
      runs.push(run);
    };
    const catchUp = schedule('hourly-catch-up', '0 * * * *', record, { missed: 'run-once' });
    const skip = schedule('hourly-skip', '0 * * * *', record, { missed: 'skip' });
    const probe = replica([catchUp, skip], undefined);
    // Last run three hours ago: the replicas were down for two ticks.
    const threeHoursAgo = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
    await t.redis.set(probe.lastTickKey('hourly-catch-up'), threeHoursAgo);
    await t.redis.set(probe.lastTickKey('hourly-skip'), threeHoursAgo);

    const replicas = [probe, replica([catchUp, skip], undefined), replica([catchUp, skip], undefined)];
    await Promise.all(replicas.map((r) => r.start()));
    await waitFor('the catch-up run', () => runs.length >= 1);
    await sleep(100);
    await Promise.all(replicas.map((r) => r.stop()));

    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ name: 'hourly-catch-up', catchUp: true });
    expect(runs[0].tick.getTime()).toBe(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  });
});
