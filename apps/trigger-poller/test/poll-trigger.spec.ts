import { Writable } from 'node:stream';
import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollTrigger, type PollDependencies } from '../src/jobs/poll-trigger-job';
import { PartnerConcurrency } from '../src/partner/partner-concurrency';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import {
  partnerSlug,
  pollDependencies,
  publishedTriggerEvents,
  startTriggerPollerTestService,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';

let service: TriggerPollerTestService;
let partner: FakePartner;
let deps: PollDependencies;
const call = (publishRequestId?: string) => ({
  signal: new AbortController().signal,
  requestId: 'test-poll-1',
  ...(publishRequestId === undefined ? {} : { publishRequestId }),
});

async function state(triggerIdentity: string) {
  return service.db
    .selectFrom('trigger_subscriptions')
    .select(['last_polled_at', 'baselined_at', 'next_poll_at', 'consecutive_failures', 'last_error'])
    .where('trigger_identity', '=', triggerIdentity)
    .executeTakeFirstOrThrow();
}

/** Seconds from now to a time, as Postgres and this process see it (same host). */
function secondsFromNow(date: Date): number {
  return (date.getTime() - Date.now()) / 1000;
}

beforeAll(async () => {
  service = await startTriggerPollerTestService();
  partner = await startFakePartner();
  deps = pollDependencies(service, { eventLimit: 2 });
});

afterAll(async () => {
  await partner?.close();
  await service?.stop();
});

describe('pollTrigger: baseline and publishing', () => {
  it('records what the partner had on the first poll (baseline) and publishes nothing', async () => {
    await service.subscribe('ti_poll', partner, { trigger_slug: 'new_photo', user_timezone: 'Europe/Paris' });
    partner.addEvents('ti_poll', [
      { id: 'e1', timestamp: 1_700_000_001, ingredients: { title: 'one' } },
      { id: 'e2', timestamp: 1_700_000_002, ingredients: { title: 'two' } },
      { id: 'e3', timestamp: 1_700_000_003, ingredients: { title: 'three' } },
    ]);
    expect((await state('ti_poll')).baselined_at).toBeNull();

    expect(await pollTrigger(deps, 'ti_poll', call())).toEqual({
      found: true,
      baseline: true,
      received: 2,
      recorded: 2,
      refused: 0,
      published: 0,
    });
    expect(await service.storedEventIds('ti_poll')).toEqual(['e2', 'e3']);
    expect(await publishedTriggerEvents(service)).toEqual([]);
    const after = await state('ti_poll');
    expect(after.baselined_at).not.toBeNull();
    expect(after.last_polled_at).not.toBeNull();
    // The next regular poll is POLL_INTERVAL_SECONDS (300 here) away.
    expect(secondsFromNow(after.next_poll_at)).toBeGreaterThan(290);
    expect(secondsFromNow(after.next_poll_at)).toBeLessThanOrEqual(300);

    // The call followed the Service API: key, request id, and a TriggerCheckRequest body.
    expect(partner.requestProblems).toEqual([]);
    const last = partner.calls.at(-1);
    expect(last?.triggerSlug).toBe('new_photo');
    expect(last?.headers['ifttt-service-key']).toBe(partner.serviceKey);
    expect(last?.headers['x-request-id']).toBe('test-poll-1');
    expect(last?.body).toEqual({
      trigger_identity: 'ti_poll',
      triggerFields: { city: 'Berlin' },
      limit: 2,
      user: { timezone: 'Europe/Paris' },
    });
  });

  it('publishes one trigger-event.recorded per new event, and the same event polled twice once', async () => {
    partner.addEvents('ti_poll', [{ id: 'e4', timestamp: 1_700_000_004, ingredients: { title: 'four' } }]);
    expect(await pollTrigger(deps, 'ti_poll', call())).toMatchObject({
      baseline: false,
      recorded: 1,
      published: 1,
    });
    expect(await pollTrigger(deps, 'ti_poll', call())).toMatchObject({
      baseline: false,
      recorded: 0,
      published: 0,
    });
    const published = await publishedTriggerEvents(service);
    expect(published).toHaveLength(1);
    expect(published[0].request_id).toBe('test-poll-1');
    const event = published[0].payload;
    expect(event).toEqual({
      trigger_identity: 'ti_poll',
      service: partnerSlug(partner),
      trigger: 'new_photo',
      event_id: 'e4',
      ingredients: { title: 'four' },
      occurred_at: new Date(1_700_000_004_000).toISOString(),
      recorded_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      // An operator's subscription: no applet uses it, so the event fires none.
      applets: [],
    });
    // meta is not an ingredient; the stored event keeps the whole payload.
    const stored = await service.db
      .selectFrom('trigger_events')
      .select('payload')
      .where('event_id', '=', 'e4')
      .executeTakeFirstOrThrow();
    expect(stored.payload).toEqual({ title: 'four', meta: { id: 'e4', timestamp: 1_700_000_004 } });
  });

  it("publishes with the notification's request id when the poll carries one, oldest event first", async () => {
    partner.addEvents('ti_poll', [
      { id: 'e6', timestamp: 1_700_000_006, ingredients: { title: 'six' } },
      { id: 'e5', timestamp: 1_700_000_005, ingredients: { title: 'five' } },
    ]);
    expect(await pollTrigger(deps, 'ti_poll', call('notification-req-42'))).toMatchObject({ published: 2 });
    const published = (await publishedTriggerEvents(service)).slice(1);
    expect(published.map((row) => [row.payload.event_id, row.request_id])).toEqual([
      ['e5', 'notification-req-42'],
      ['e6', 'notification-req-42'],
    ]);
    // The partner call itself carries the poll's own id.
    expect(partner.calls.at(-1)?.headers['x-request-id']).toBe('test-poll-1');
  });
});

describe('pollTrigger: nothing new', () => {
  it('marks a poll whose answer is all known, records nothing; an empty first answer is the baseline', async () => {
    await service.subscribe('ti_quiet', partner, { trigger_slug: 'new_photo' });
    // First poll, the partner has nothing: still the baseline (what comes later fires).
    expect(await pollTrigger(deps, 'ti_quiet', call())).toEqual({
      found: true,
      baseline: true,
      received: 0,
      recorded: 0,
      refused: 0,
      published: 0,
    });
    const baselined = await state('ti_quiet');
    expect(baselined.baselined_at).not.toBeNull();

    partner.addEvents('ti_quiet', [{ id: 'q1', timestamp: 1_700_000_101, ingredients: { title: 'q1' } }]);
    expect(await pollTrigger(deps, 'ti_quiet', call())).toMatchObject({
      baseline: false,
      recorded: 1,
      published: 1,
    });

    // The same answer again: all known (the path without a recording transaction). The poll is marked,
    // nothing is recorded or published, the baseline stays.
    const before = await state('ti_quiet');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await pollTrigger(deps, 'ti_quiet', call());
    expect(again).toEqual({
      found: true,
      baseline: false,
      received: 1,
      recorded: 0,
      refused: 0,
      published: 0,
    });
    const after = await state('ti_quiet');
    expect(after.last_polled_at?.getTime() ?? 0).toBeGreaterThan(
      before.last_polled_at?.getTime() ?? Infinity,
    );
    expect(after.baselined_at).toEqual(baselined.baselined_at);
    expect(
      (await publishedTriggerEvents(service)).filter((e) => e.payload.trigger_identity === 'ti_quiet'),
    ).toHaveLength(1);

    // A subscription deleted before the mark: nothing found, nothing written.
    await service.db.deleteFrom('trigger_subscriptions').where('trigger_identity', '=', 'ti_quiet').execute();
    expect(await pollTrigger(deps, 'ti_quiet', call())).toMatchObject({ found: false });
  });
});

describe('pollTrigger: failures back the subscription off', () => {
  it('records a 503 on the subscription (no throw) and doubles the backoff per failure, up to the cap', async () => {
    await service.subscribe('ti_flaky', partner);
    partner.failNext(2, 503);
    const first = await pollTrigger(deps, 'ti_flaky', call());
    expect(first).toMatchObject({ found: true, failed: expect.stringMatching(/answered HTTP 503/) });
    let row = await state('ti_flaky');
    expect(row.consecutive_failures).toBe(1);
    expect(row.last_error).toMatch(/answered HTTP 503/);
    expect(row.last_polled_at).toBeNull();
    // 60 s base, 0.8-1x jitter.
    expect(secondsFromNow(row.next_poll_at)).toBeGreaterThan(45);
    expect(secondsFromNow(row.next_poll_at)).toBeLessThanOrEqual(60);

    await pollTrigger(deps, 'ti_flaky', call());
    row = await state('ti_flaky');
    expect(row.consecutive_failures).toBe(2);
    expect(secondsFromNow(row.next_poll_at)).toBeGreaterThan(93);
    expect(secondsFromNow(row.next_poll_at)).toBeLessThanOrEqual(120);

    // A long streak stays at the cap (6 h), never more.
    await service.db
      .updateTable('trigger_subscriptions')
      .set({ consecutive_failures: 500 })
      .where('trigger_identity', '=', 'ti_flaky')
      .execute();
    partner.failNext(1, 500);
    await pollTrigger(deps, 'ti_flaky', call());
    row = await state('ti_flaky');
    expect(row.consecutive_failures).toBe(501);
    expect(secondsFromNow(row.next_poll_at)).toBeGreaterThan(0.8 * 21_600 - 5);
    expect(secondsFromNow(row.next_poll_at)).toBeLessThanOrEqual(21_600);

    // Success clears the streak.
    await pollTrigger(deps, 'ti_flaky', call());
    row = await state('ti_flaky');
    expect(row).toMatchObject({ consecutive_failures: 0, last_error: null });
    expect(secondsFromNow(row.next_poll_at)).toBeGreaterThan(290);
  });

  it('marks a subscription whose key the partner rejects and logs it once, not on every poll', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
          done();
        },
      }),
    );
    const badKey = 'sk_not_the_partner_key_0123456789';
    await service.subscribe('ti_badkey', { url: partner.url, serviceKey: badKey });
    for (let poll = 0; poll < 3; poll++) {
      const outcome = await pollTrigger({ ...deps, logger }, 'ti_badkey', call());
      expect(outcome.failed).toMatch(/rejected the service key \(HTTP 401\).*service_key is updated/);
    }
    const row = await state('ti_badkey');
    expect(row.consecutive_failures).toBe(3);
    expect(row.last_error).not.toContain(badKey);
    const errors = lines.filter((line) => line.level >= 50);
    expect(errors.map((line) => line.msg)).toEqual([
      'partner rejected the service key: subscription backed off until the key changes',
    ]);
    expect(JSON.stringify(lines)).not.toContain(badKey);
    expect(await service.storedEventIds('ti_badkey')).toEqual([]);

    // A new key for the partner makes the subscription due at once.
    await service.putPartner(partnerSlug({ url: partner.url, serviceKey: badKey }), partner);
    expect(secondsFromNow((await state('ti_badkey')).next_poll_at)).toBeLessThanOrEqual(0);
    expect(await pollTrigger(deps, 'ti_badkey', call())).toMatchObject({ baseline: true });
    expect((await state('ti_badkey')).consecutive_failures).toBe(0);
  });

  it('records a time-out and an unknown partner as failures too', async () => {
    await service.subscribe('ti_slow', partner);
    partner.hang = true;
    try {
      const outcome = await pollTrigger({ ...deps, timeoutMs: 300 }, 'ti_slow', call());
      expect(outcome.failed).toMatch(/did not answer within 300 ms/);
    } finally {
      partner.hang = false;
    }
    expect((await state('ti_slow')).last_polled_at).toBeNull();

    await service.subscribe('ti_orphan', partner, { service_slug: 'orphan' });
    await sql`delete from partners where slug = 'orphan'`.execute(service.db);
    const orphan = await pollTrigger(deps, 'ti_orphan', call());
    expect(orphan.failed).toMatch(/partner orphan is not known/);
    expect((await state('ti_orphan')).consecutive_failures).toBe(1);
  });

  it('defers (no call) when the partner is at its concurrency limit, and does nothing for a deleted subscription', async () => {
    const limits = new PartnerConcurrency(1);
    expect(limits.tryAcquire(partnerSlug(partner))).toBe(true);
    const calls = partner.calls.length;
    expect(await pollTrigger({ ...deps, partnerConcurrency: limits }, 'ti_poll', call())).toMatchObject({
      found: true,
      deferred: true,
    });
    expect(await pollTrigger(deps, 'ti_deleted', call())).toEqual({
      found: false,
      received: 0,
      recorded: 0,
      refused: 0,
      published: 0,
    });
    expect(partner.calls).toHaveLength(calls);
  });
});
