import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobPayloadError } from '@ittd/platform';
import { enqueuePolls, pollJobs } from '../src/jobs/poll-jobs';
import {
  startTriggerPollerTestService,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';

let service: TriggerPollerTestService;
const partnerA = { url: 'http://127.0.0.1:9/a', serviceKey: 'sk_partner_a_0123456789abcdef' };
const partnerB = { url: 'http://127.0.0.1:9/b', serviceKey: 'sk_partner_b_0123456789abcdef' };

function notify(body: unknown, serviceKey?: string) {
  return service.request('POST', '/v1/notifications', {
    body,
    headers: serviceKey === undefined ? {} : { 'IFTTT-Service-Key': serviceKey },
  });
}

beforeAll(async () => {
  service = await startTriggerPollerTestService();
  await service.subscribe('ti_a1', partnerA, { user_id: 'alice' });
  await service.subscribe('ti_a2', partnerA, { user_id: 'alice' });
  await service.subscribe('ti_a3', partnerA, { user_id: 'bob' });
  await service.subscribe('ti_b1', partnerB, { user_id: 'alice' });
});

afterAll(async () => {
  await service?.stop();
});

describe('POST /v1/notifications', () => {
  it('answers 401 without a key or with a key no subscription has, and enqueues nothing', async () => {
    const missing = await notify({ data: [{ trigger_identity: 'ti_a1' }] });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(missing.headers.get('www-authenticate')).toBe('IFTTT-Service-Key realm="ittd"');
    const wrong = await notify({ data: [{ trigger_identity: 'ti_a1' }] }, 'sk_unknown_0123456789abcdef');
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('sk_unknown');
    expect(wrong.headers.get('www-authenticate')).toBe('IFTTT-Service-Key realm="ittd"');
    expect(await service.waitingPolls()).toEqual([]);
  });

  it('answers 400 naming each invalid field, and enqueues nothing', async () => {
    const bad = await notify(
      { data: [{ trigger_identity: 'ti_a1' }, {}, { trigger_identity: 'has space' }, { user_id: 7 }] },
      partnerA.serviceKey,
    );
    expect(bad.status).toBe(400);
    const names = (bad.body as { errors: { name: string }[] }).errors.map((error) => error.name).sort();
    expect(names).toEqual(['data.1', 'data.2.trigger_identity', 'data.3.user_id']);

    const tooMany = await notify(
      { data: Array.from({ length: 1001 }, (_, i) => ({ trigger_identity: `ti_${i}` })) },
      partnerA.serviceKey,
    );
    expect(tooMany.status).toBe(400);
    expect((tooMany.body as { errors: { name: string }[] }).errors.map((error) => error.name)).toEqual([
      'data',
    ]);

    const noData = await notify({ items: [] }, partnerA.serviceKey);
    expect(noData.status).toBe(400);
    expect((noData.body as { errors: { name: string }[] }).errors.map((error) => error.name)).toEqual([
      'data',
    ]);
    expect(await service.waitingPolls()).toEqual([]);
  });

  it('takes 1000 entries (the Service API maximum) in one body', async () => {
    const full = await notify(
      {
        data: Array.from({ length: 1000 }, (_, i) => ({
          user_id: `user-with-a-long-identifier-${'x'.repeat(80)}-${i}`,
        })),
      },
      partnerA.serviceKey,
    );
    expect(full.status).toBe(202);
    expect(full.body).toEqual({ matched: 0, enqueued: 0 });
  });

  it('enqueues one poll per matching identity of the notifying key only, once for duplicates', async () => {
    const first = await notify(
      {
        data: [
          { trigger_identity: 'ti_a1' },
          { trigger_identity: 'ti_a1' },
          { trigger_identity: 'ti_b1' },
          { trigger_identity: 'ti_nope' },
        ],
      },
      partnerA.serviceKey,
    );
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ matched: 1, enqueued: 1 });

    // user ids expand to that user's subscriptions of this partner; ti_a1 already waits.
    const byUser = await notify({ data: [{ user_id: 'alice' }] }, partnerA.serviceKey);
    expect(byUser.status).toBe(202);
    expect(byUser.body).toEqual({ matched: 2, enqueued: 1 });

    const again = await notify(
      { data: [{ trigger_identity: 'ti_a1' }, { user_id: 'alice' }] },
      partnerA.serviceKey,
    );
    expect(again.body).toEqual({ matched: 2, enqueued: 0 });

    expect(await service.waitingPolls()).toEqual(['ti_a1', 'ti_a2']);
  });
});

describe('what Postgres confirmed is remembered for NOTIFICATION_CACHE_TTL_MS (10 s by default)', () => {
  /** Queries of the two tables a notification reads (the platform's db_queries_total). */
  async function lookups(): Promise<number> {
    const metric = await service.ctx.metrics.getSingleMetric('db_queries_total')?.get();
    return (metric?.values ?? [])
      .filter((value) => value.labels.table === 'partners' || value.labels.table === 'trigger_subscriptions')
      .reduce((sum, value) => sum + value.value, 0);
  }

  it('notifying the same identities again costs no query; new ones are matched at once, never across partners', async () => {
    await service.subscribe('ti_a4', partnerA, { user_id: 'carol' });
    const before = await lookups();
    const first = await notify({ data: [{ trigger_identity: 'ti_a4' }] }, partnerA.serviceKey);
    expect(first.body).toEqual({ matched: 1, enqueued: 1 });
    const afterFirst = await lookups();
    expect(afterFirst).toBeGreaterThan(before);

    for (let i = 0; i < 5; i++) {
      const again = await notify({ data: [{ trigger_identity: 'ti_a4' }] }, partnerA.serviceKey);
      expect(again.status).toBe(202);
      expect(again.body).toEqual({ matched: 1, enqueued: 0 });
    }
    expect(await lookups()).toBe(afterFirst);

    // A subscription made after the cache filled is matched on its first notification (misses are looked up).
    await service.subscribe('ti_a5', partnerA, { user_id: 'carol' });
    const both = await notify(
      { data: [{ trigger_identity: 'ti_a4' }, { trigger_identity: 'ti_a5' }] },
      partnerA.serviceKey,
    );
    expect(both.body).toEqual({ matched: 2, enqueued: 1 });
    // Partner B's key never matches what partner A's notifications put in memory.
    const other = await notify({ data: [{ trigger_identity: 'ti_a4' }] }, partnerB.serviceKey);
    expect(other.body).toEqual({ matched: 0, enqueued: 0 });
    expect(await service.waitingPolls()).toEqual(['ti_a1', 'ti_a2', 'ti_a4', 'ti_a5']);
  });
});

describe('concurrent notifications', () => {
  it('share one enqueue per event-loop turn: 20 at once for one identity make one poll, each answered 202', async () => {
    await service.subscribe('ti_c1', partnerA, { user_id: 'dave' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        notify({ data: [{ trigger_identity: 'ti_c1' }] }, partnerA.serviceKey),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(202));
    const bodies = answers.map((answer) => answer.body as { matched: number; enqueued: number });
    expect(bodies.every((body) => body.matched === 1)).toBe(true);
    expect(bodies.reduce((sum, body) => sum + body.enqueued, 0)).toBe(1);
    expect(await service.waitingPolls()).toContain('ti_c1');
  });

  it("one caller's invalid payload fails that caller alone, not the others of its turn", async () => {
    const jobs = pollJobs(service.ctx);
    const [bad, good] = await Promise.allSettled([
      enqueuePolls(jobs, ['ti_c2'], { requestId: 'r'.repeat(201) }),
      enqueuePolls(jobs, ['ti_c3'], { requestId: 'req-ok' }),
    ]);
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(JobPayloadError);
    expect(good).toEqual({ status: 'fulfilled', value: 1 });
    const waiting = await service.waitingPolls();
    expect(waiting).toContain('ti_c3');
    expect(waiting).not.toContain('ti_c2');
  });
});
