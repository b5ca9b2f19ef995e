import type { RunningService } from '@ittd/platform';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { configSchema } from '../src/config';
import type { DB } from '../src/data/database';
import { enqueueDuePollsOnce } from '../src/jobs/enqueue-due-polls-schedule';
import { enqueuePolls, pollJobs } from '../src/jobs/poll-jobs';
import { POLL_QUEUE } from '../src/jobs/poll-trigger-job';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import {
  partnerSlug,
  startTriggerPollerTestService,
  waitFor,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';

// Issue 8: failing subscriptions are backed off one by one and never starve healthy ones; one slow partner
// never starves the others. Smaller numbers than production (20 failing rows, a batch of 5), same logic.

let service: TriggerPollerTestService;
const partners: FakePartner[] = [];

async function startPartner(key: string): Promise<FakePartner> {
  const partner = await startFakePartner(key);
  partners.push(partner);
  return partner;
}

/** Calls a fake partner got per trigger identity. */
function callsPerIdentity(partner: FakePartner): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of partner.calls) {
    const identity = (call.body as { trigger_identity: string }).trigger_identity;
    counts.set(identity, (counts.get(identity) ?? 0) + 1);
  }
  return counts;
}

beforeAll(async () => {
  service = await startTriggerPollerTestService({ POLL_BATCH_SIZE: '5' });
});

afterAll(async () => {
  // Partners first: their hanging calls end at once (sockets destroyed), so the worker stops quickly.
  for (const partner of partners) await partner.close();
  await service?.stop();
});

describe('the schedule with failing subscriptions', () => {
  let worker: RunningService<typeof configSchema, DB>;

  beforeAll(async () => {
    worker = await service.startWorker({ WORKER_CONCURRENCY: '4' });
  });

  afterAll(async () => {
    await worker.stop();
  });

  it('backs each failing row off and polls the healthy one, however overdue the failing rows are', async () => {
    const failing = await startPartner('sk_failing_partner_0123456789');
    const healthy = await startPartner('sk_healthy_partner_0123456789');
    failing.failNext(10_000, 503);
    const failingIds = Array.from({ length: 20 }, (_, n) => `ti_fail_${String(n).padStart(2, '0')}`);
    for (const id of failingIds) await service.subscribe(id, failing);
    await service.subscribe('ti_healthy', healthy);
    healthy.addEvents('ti_healthy', [{ id: 'h1', timestamp: 1_700_000_001 }]);
    // The failing rows are the most overdue: before per-row backoff they filled every batch, forever.
    await service.db
      .updateTable('trigger_subscriptions')
      .set({ next_poll_at: sql<Date>`now() - interval '1 hour'` })
      .where('trigger_identity', 'in', failingIds)
      .execute();

    const { queue } = pollJobs(worker.ctx);
    const drained = async () => {
      const depth = (await queue.stats([POLL_QUEUE]))[POLL_QUEUE];
      return depth.ready + depth.delayed + depth.leased === 0;
    };
    const enqueuedPerRun: number[] = [];
    // Eight schedule runs (eight minutes in production), each waiting for its polls to finish.
    for (let run = 0; run < 8; run++) {
      enqueuedPerRun.push((await enqueueDuePollsOnce(worker.ctx)).enqueued);
      await waitFor(`the polls of run ${run}`, drained);
    }

    expect(callsPerIdentity(healthy).get('ti_healthy')).toBe(1);
    expect(await service.storedEventIds('ti_healthy')).toEqual(['h1']);
    // Every failing row was polled once, then waits for its backoff (about a minute, then 2, 4, ... up to 6 h).
    const failingCalls = callsPerIdentity(failing);
    expect(failingIds.map((id) => failingCalls.get(id))).toEqual(failingIds.map(() => 1));
    expect(enqueuedPerRun).toEqual([5, 5, 5, 5, 1, 0, 0, 0]);
    const marked = await service.db
      .selectFrom('trigger_subscriptions')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('trigger_identity', 'in', failingIds)
      .where('consecutive_failures', '=', 1)
      .where('next_poll_at', '>', sql<Date>`now() + interval '40 seconds'`)
      .executeTakeFirstOrThrow();
    expect(Number(marked.count)).toBe(20);
    expect(await queue.listDead(POLL_QUEUE)).toEqual([]);
  });
});

describe('a slow partner', () => {
  it('holds at most PARTNER_CONCURRENCY worker slots: another partner is polled meanwhile', async () => {
    const worker = await service.startWorker({
      WORKER_CONCURRENCY: '4',
      PARTNER_CONCURRENCY: '2',
      PARTNER_BUSY_DELAY_MS: '50',
      PARTNER_TIMEOUT_MS: '120000',
    });
    try {
      const slow = await startPartner('sk_slow_partner_0123456789ab');
      const fast = await startPartner('sk_fast_partner_0123456789ab');
      slow.hang = true;
      const slowIds = Array.from({ length: 6 }, (_, n) => `ti_slow_${n}`);
      for (const id of slowIds) await service.subscribe(id, slow);
      await service.subscribe('ti_fast', fast);
      fast.addEvents('ti_fast', [{ id: 'f1', timestamp: 1_700_000_001 }]);

      // The slow partner's polls first: without a per-partner limit they would take all 4 slots for 2 minutes.
      await enqueuePolls(pollJobs(worker.ctx), slowIds);
      await waitFor('two calls hanging at the slow partner', () => slow.calls.length >= 2);
      await enqueuePolls(pollJobs(worker.ctx), ['ti_fast']);
      await waitFor(
        'the fast partner polled',
        async () => (await service.storedEventIds('ti_fast')).length === 1,
      );
      expect(slow.calls).toHaveLength(2);
      expect(pollJobs(worker.ctx).partnerConcurrency.inFlight(partnerSlug(slow))).toBe(2);
    } finally {
      for (const partner of partners) partner.hang = false;
      await Promise.all(partners.splice(0).map((partner) => partner.close()));
      await worker.stop();
    }
  });
});
