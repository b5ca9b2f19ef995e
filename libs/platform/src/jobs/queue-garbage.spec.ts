import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from './job-definition';
import { JobPayloadError, JobQueue } from './job-queue';
import { parseHistory } from './job-record';
import type { JobWorker } from './job-worker';
import type { QueueKeys } from './queue-keys';
import {
  ackScript,
  enqueueScript,
  extendScript,
  purgeDeadScript,
  releaseScript,
  retryDeadScript,
  statsScript,
  takeScript,
} from './queue-scripts';
import { openTestRedis, waitFor, type JobsTestRedis } from './testing/jobs-test-support';

/*
 * Item 1 of issue 7: no script may fail after its first write. Every script is fed stored values it cannot
 * parse (records, attempts, histories, ids, unique keys, take lists, rate entries, keys of the wrong type); it
 * must not error, or if it errors it must have written nothing; the other jobs must be untouched and the bad
 * job dead-lettered with a reason.
 */

let t: JobsTestRedis;
let queue: JobQueue;
const workers: JobWorker[] = [];
let seq = 0;
const nextQueue = (): string => `g${++seq}`;

beforeAll(async () => {
  t = await openTestRedis('jobs-garbage');
  queue = new JobQueue({ redis: t.redis, prefix: t.prefix });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(() => t.close());

/** Every key of the queue, dumped: equal snapshots mean nothing was written. */
async function snapshot(keys: QueueKeys): Promise<(string | null)[]> {
  return Promise.all(
    keys.all.map(async (key) => (await t.redis.dumpBuffer(key))?.toString('base64') ?? null),
  );
}

/** Records a script must survive: not ours at all, the old JSON format, a lone surrogate, a broken header. */
const BAD_RECORDS = [
  'not json',
  '',
  '{"n":"note","p":0,"m":3,"t":0,"r":0,"d":{"title":"\\ud83d"}}',
  'J1- high 10 0 0 note \n{}',
  'J1- 5000 10 0 0 note \n{}',
  'J1x 0 10 0 0 note \n{}',
];

const note = (q: string) =>
  defineJob('note', z.object({ title: z.string() }), () => Promise.resolve(), { queue: q, maxAttempts: 3 });

/** Two good jobs enqueued the normal way, and the keys of their queue. */
async function goodPair(q: string): Promise<{ keys: QueueKeys; a: string; c: string }> {
  const [a, c] = await queue.enqueueMany(note(q), [{ title: 'first' }, { title: 'third' }]);
  return { keys: queue.keys(q), a: a.id, c: c.id };
}

async function takeAll(keys: QueueKeys, token: string, rate: [number, number] = [0, 0]): Promise<string[]> {
  const reply = (await takeScript.run(t.redis, keys.all, [token, 100, 30_000, ...rate, ''])) as (
    string | number
  )[];
  const reclaimed = Number(reply[1]);
  const ids: string[] = [];
  for (let i = 2 + reclaimed * 2; i < reply.length; i += 3) ids.push(String(reply[i]));
  return ids;
}

async function deadReason(q: string, id: string): Promise<string | undefined> {
  const history = parseHistory(await t.redis.hget(queue.keys(q).history, id));
  const dead = await t.redis.zscore(queue.keys(q).dead, id);
  return dead === null ? undefined : history.at(-1)?.error;
}

/** A job `note` on queue `q` whose handler records each title it runs in `runs`. */
function noteJob(q: string, runs: string[]) {
  return defineJob(
    'note',
    z.object({ title: z.string() }),
    async ({ title }) => {
      runs.push(title);
    },
    { queue: q },
  );
}

describe('the issue 7 input: a lone surrogate between two good jobs', () => {
  it('is refused at enqueue with a clear error; the other jobs run and the unique key stays free', async () => {
    const q = nextQueue();
    const runs: string[] = [];
    const job = noteJob(q, runs);
    await queue.enqueue(job, { title: 'first' });
    const lone = '\u{1F600} party'.slice(0, 1);
    await expect(queue.enqueue(job, { title: lone }, { uniqueKey: 'note:42' })).rejects.toThrow(
      JobPayloadError,
    );
    await expect(queue.enqueue(job, { title: lone }, { delayMs: 10 })).rejects.toThrow(
      /must be well-formed Unicode without NUL characters[\s\S]*at title/,
    );
    // The platform's one string rule: a NUL is refused too (Postgres cannot store it in text or jsonb).
    await expect(queue.enqueue(job, { title: 'a\u0000b' })).rejects.toThrow(/at title/);
    await queue.enqueue(job, { title: 'third' });
    const worker = queue.createWorker({ jobs: [job], pollIntervalMs: 100 });
    workers.push(worker);
    await worker.start();
    await waitFor('both good jobs to run', () => runs.length === 2);
    expect(runs).toEqual(['first', 'third']);
    expect(await queue.enqueue(job, { title: 'fourth' }, { uniqueKey: 'note:42' })).toMatchObject({
      created: true,
    });
    await waitFor('the fourth job to run', () => runs.length === 3);
    expect((await queue.stats([q]))[q]).toEqual({ ready: 0, delayed: 0, leased: 0, dead: 0 });
  });

  it('a payload JSON cannot write (a cycle) is a JobPayloadError, not a crash, and nothing of the call is stored', async () => {
    const q = nextQueue();
    const job = defineJob('blob', z.object({ data: z.unknown() }), async () => undefined, { queue: q });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(queue.enqueueMany(job, [{ data: 'fine' }, { data: cyclic }])).rejects.toThrow(
      /item 1[\s\S]*cannot be written as JSON/,
    );
    expect((await queue.stats([q]))[q]).toEqual({ ready: 0, delayed: 0, leased: 0, dead: 0 });
  });

  it('a record with a lone surrogate already in Redis (ready and delayed) runs; later takes keep working', async () => {
    const q = nextQueue();
    const runs: string[] = [];
    const job = noteJob(q, runs);
    const keys = queue.keys(q);
    // As an older producer wrote it (JSON.stringify escapes a lone surrogate; Redis's cjson refused it).
    const record = `J1u 0 10 0 0 note note:42\n${JSON.stringify({ title: '\ud83d' })}`;
    await t.redis.hset(keys.jobs, 'old-1', record, 'old-2', record);
    await t.redis.zadd(keys.ready, 0, '0');
    await t.redis.rpush(keys.readyList(0), 'old-1');
    await t.redis.zadd(keys.delayed, 0, 'old-2');
    await t.redis.hset(keys.unique, 'note:42', 'old-1');
    await queue.enqueueMany(job, [{ title: 'first' }, { title: 'third' }]);
    const worker = queue.createWorker({ jobs: [job], pollIntervalMs: 100 });
    workers.push(worker);
    await worker.start();
    await waitFor('all four jobs to run', () => runs.length === 4);
    await queue.enqueue(job, { title: 'later' }, { delayMs: 20 });
    await waitFor('a later delayed job to run', () => runs.includes('later'));
    expect(await t.redis.hexists(keys.unique, 'note:42')).toBe(0);
  });
});

describe('every script, fed stored values it cannot parse', () => {
  it.each(BAD_RECORDS)(
    'take (ready) and worker: record %j is dead-lettered with a reason, the others run',
    async (bad) => {
      const q = nextQueue();
      const runs: string[] = [];
      const job = defineJob(
        'note',
        z.object({ title: z.string() }),
        async ({ title }) => {
          runs.push(title);
        },
        { queue: q, maxAttempts: 3 },
      );
      const keys = queue.keys(q);
      await queue.enqueue(job, { title: 'first' });
      await t.redis.rpush(keys.readyList(0), 'bad');
      await t.redis.hset(keys.jobs, 'bad', bad);
      await queue.enqueue(job, { title: 'third' });
      // The take dead-letters what it cannot use; the worker reads the whole header and dead-letters the rest.
      const worker = queue.createWorker({ jobs: [job], pollIntervalMs: 100 });
      workers.push(worker);
      await worker.start();
      await waitFor('the bad record to be dead', async () => (await deadReason(q, 'bad')) !== undefined);
      await waitFor('both good jobs to run', () => runs.length === 2);
      expect(runs).toEqual(['first', 'third']);
      expect(await deadReason(q, 'bad')).toMatch(/unreadable record/);
      await waitFor('the queue to settle', async () => (await queue.stats([q]))[q].leased === 0);
      expect((await queue.stats([q]))[q]).toEqual({ ready: 0, delayed: 0, leased: 0, dead: 1 });
    },
  );

  it.each(BAD_RECORDS)(
    'take (due delayed job): dead-letters record %j, the queue keeps going',
    async (bad) => {
      const q = nextQueue();
      const { keys, a, c } = await goodPair(q);
      await t.redis.hset(keys.jobs, 'bad', bad);
      await t.redis.zadd(keys.delayed, 0, 'bad');
      expect((await takeAll(keys, 'tok-1')).sort()).toEqual([a, c].sort());
      expect(await deadReason(q, 'bad')).toMatch(/unreadable record/);
      expect(await takeAll(keys, 'tok-2')).toEqual([]);
    },
  );

  it.each(BAD_RECORDS)('take (expired lease): reclaims the good job, dead-letters record %j', async (bad) => {
    const q = nextQueue();
    const { keys, a, c } = await goodPair(q);
    expect((await takeAll(keys, 'tok-1')).sort()).toEqual([a, c].sort());
    await t.redis.hset(keys.jobs, 'bad', bad);
    await t.redis.hset(keys.takes, 'tok-1', `${a},bad,${c}`);
    await t.redis.zadd(keys.leases, 0, 'tok-1'); // expired
    expect((await takeAll(keys, 'tok-2')).sort()).toEqual([a, c].sort());
    expect(await deadReason(q, 'bad')).toMatch(/unreadable record/);
    expect(await t.redis.hget(keys.attempts, a)).toBe('1');
  });

  it.each(BAD_RECORDS)('release: hands the good jobs back, dead-letters record %j', async (bad) => {
    const q = nextQueue();
    const { keys, a, c } = await goodPair(q);
    await takeAll(keys, 'tok-1');
    await t.redis.hset(keys.jobs, 'bad', bad);
    await t.redis.hset(keys.takes, 'tok-1', `${a},bad,${c}`);
    expect(await releaseScript.run(t.redis, keys.all, [keys.wakeChannel, 'tok-1', a, 'bad', c])).toBe(3);
    expect(await deadReason(q, 'bad')).toMatch(/unreadable record/);
    expect((await queue.stats([q]))[q]).toEqual({ ready: 2, delayed: 0, leased: 0, dead: 1 });
  });

  it.each(BAD_RECORDS)('ack, retry-dead, purge-dead, stats and listDead survive record %j', async (bad) => {
    const q = nextQueue();
    const { keys, a, c } = await goodPair(q);
    await takeAll(keys, 'tok-1');
    await t.redis.hset(keys.jobs, 'bad', bad);
    await t.redis.hset(keys.takes, 'tok-1', `${a},bad,${c}`);
    const entry = JSON.stringify({ attempt: 1, at: 0, error: 'boom' });
    // a completes, c fails for good, bad fails for a retry: the ack does not read records.
    await ackScript.run(t.redis, keys.all, [
      keys.wakeChannel,
      `tok-1:${a}`,
      'd',
      'tok-1',
      c,
      0,
      entry,
      'r',
      'tok-1',
      'bad',
      0,
      entry,
    ]);
    expect(await t.redis.hexists(keys.jobs, a)).toBe(0);
    // The retry of the bad record is promoted by the next take, which dead-letters it with the reason.
    expect(await takeAll(keys, 'tok-2')).toEqual([]);
    expect(await deadReason(q, 'bad')).toMatch(/unreadable record/);
    expect(await retryDeadScript.run(t.redis, keys.all, [keys.wakeChannel, 0, 'bad', c])).toBe(1);
    expect(await t.redis.zscore(keys.dead, 'bad')).not.toBeNull(); // cannot be retried: stays dead
    const dead = await queue.listDead(q);
    expect(dead.map((d) => d.id)).toEqual(['bad']);
    expect(dead[0].failures.at(-1)?.error).toMatch(/unreadable record/);
    expect(await statsScript.run(t.redis, keys.all, [])).toEqual([1, 0, 0, 1]);
    expect(await purgeDeadScript.run(t.redis, keys.all, [0, 'bad'])).toBe(1);
  });

  it('garbage attempts, history, ids, unique keys, take lists and rate entries: no error, the others run', async () => {
    const q = nextQueue();
    const { keys, a, c } = await goodPair(q);
    const good = 'J1- 0 3 0 0 note \n{"title":"x"}';
    await t.redis.hset(keys.jobs, 'bad-att', good, 'bad,id', good, 'bad-hist', good);
    await t.redis.zadd(keys.ready, 0, '0');
    await t.redis.lpush(keys.readyList(0), 'bad-att', 'bad,id', 'bad-hist');
    await t.redis.hset(keys.attempts, 'bad-att', 'many');
    await t.redis.hset(keys.history, 'bad-hist', '{"not":"an array"');
    await t.redis.hset(keys.unique, 'note:42', 'no-such-job');
    await t.redis.hset(keys.takes, 'tok-old', ',,,;:');
    await t.redis.zadd(keys.leases, 0, 'tok-old');
    await t.redis.zadd(keys.all[9], 0, 'garbage-rate-entry');
    await t.redis.set(keys.all[10], 'lots', 'PX', 60_000);
    const ids = await takeAll(keys, 'tok-1', [100, 1000]);
    expect(ids.sort()).toEqual([a, c, 'bad-att', 'bad-hist'].sort());
    expect(await deadReason(q, 'bad,id')).toMatch(/invalid job id/);
    // Attempts that do not parse count as 0; a history that does not parse is replaced.
    const entry = JSON.stringify({ attempt: 1, at: 0, error: 'boom' });
    await ackScript.run(t.redis, keys.all, [
      keys.wakeChannel,
      '',
      'd',
      'tok-1',
      'bad-att',
      0,
      entry,
      'd',
      'tok-1',
      'bad-hist',
      0,
      entry,
    ]);
    expect(await t.redis.hget(keys.attempts, 'bad-att')).toBe('1');
    expect(parseHistory(await t.redis.hget(keys.history, 'bad-hist'))).toEqual([
      { attempt: 1, at: 0, error: 'boom' },
    ]);
    // A unique key pointing at a job that does not wait is stale: the new job takes it.
    const fresh = await queue.enqueue(note(q), { title: 'y' }, { uniqueKey: 'note:42' });
    expect(fresh.created).toBe(true);
    expect(await t.redis.hget(keys.unique, 'note:42')).toBe(fresh.id);
  });

  it('a key of the wrong type: every script refuses before writing anything', async () => {
    const q = nextQueue();
    const { keys, a } = await goodPair(q);
    await takeAll(keys, 'tok-1');
    const calls: [string, () => Promise<unknown>][] = [
      [
        'enqueue',
        () =>
          enqueueScript.run(t.redis, keys.all, [
            keys.wakeChannel,
            1,
            `\x000\x000\x00id-9\x00J1- 0 3 0 0 note \n{}`,
            '1',
            'id-9',
            0,
          ]),
      ],
      ['take', () => takeScript.run(t.redis, keys.all, ['tok-2', 10, 30_000, 5, 1000, `tok-1:${a}`])],
      ['ack', () => ackScript.run(t.redis, keys.all, [keys.wakeChannel, `tok-1:${a}`])],
      ['extend', () => extendScript.run(t.redis, keys.all, [30_000, 'tok-1'])],
      ['release', () => releaseScript.run(t.redis, keys.all, [keys.wakeChannel, 'tok-1', a])],
      ['retryDead', () => retryDeadScript.run(t.redis, keys.all, [keys.wakeChannel, 10])],
      ['purgeDead', () => purgeDeadScript.run(t.redis, keys.all, [10])],
    ];
    let refused = 0;
    for (let k = 0; k < keys.all.length; k++) {
      const key = keys.all[k];
      const saved = await t.redis.dumpBuffer(key);
      await t.redis.del(key);
      await t.redis.sadd(key, 'wrong-type'); // a set: no queue key is one
      for (const [name, call] of calls) {
        const before = await snapshot(keys);
        const outcome = await call().then(
          () => 'ok',
          (error: Error) => error.message,
        );
        if (outcome !== 'ok') {
          refused++;
          expect(outcome, `${name} with ${key}`).toMatch(/holds a set, expected/);
          expect(await snapshot(keys), `${name} wrote before failing on ${key}`).toEqual(before);
        }
      }
      await t.redis.del(key);
      if (saved) await t.redis.restore(key, 0, saved);
    }
    expect(refused).toBeGreaterThan(20);
  });
});
