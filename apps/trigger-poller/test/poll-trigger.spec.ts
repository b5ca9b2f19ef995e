import { PermanentJobError } from '@ittd/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollTrigger, type PollDependencies } from '../src/jobs/poll-trigger-job';
import { PartnerCallError } from '../src/partner/partner-trigger-client';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import {
  startTriggerPollerTestService,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';

let service: TriggerPollerTestService;
let partner: FakePartner;
let deps: PollDependencies;
const call = () => ({ signal: new AbortController().signal, requestId: 'test-poll-1' });

async function lastPolledAt(triggerIdentity: string): Promise<Date | null> {
  const row = await service.db
    .selectFrom('trigger_subscriptions')
    .select('last_polled_at')
    .where('trigger_identity', '=', triggerIdentity)
    .executeTakeFirstOrThrow();
  return row.last_polled_at;
}

beforeAll(async () => {
  service = await startTriggerPollerTestService();
  partner = await startFakePartner();
  deps = {
    db: service.db,
    logger: service.ctx.logger,
    eventLimit: 2,
    timeoutMs: 5000,
    maxAnswerBytes: 1_048_576,
  };
});

afterAll(async () => {
  await partner?.close();
  await service?.stop();
});

describe('pollTrigger', () => {
  it('records only unseen events across two polls and sets last_polled_at', async () => {
    await service.subscribe('ti_poll', partner, { trigger_slug: 'new_photo', user_timezone: 'Europe/Paris' });
    partner.addEvents('ti_poll', [
      { id: 'e1', timestamp: 1_700_000_001, ingredients: { title: 'one' } },
      { id: 'e2', timestamp: 1_700_000_002, ingredients: { title: 'two' } },
      { id: 'e3', timestamp: 1_700_000_003, ingredients: { title: 'three' } },
    ]);

    expect(await pollTrigger(deps, 'ti_poll', call())).toEqual({
      found: true,
      received: 2,
      recorded: 2,
      refused: 0,
    });
    expect(await service.storedEventIds('ti_poll')).toEqual(['e2', 'e3']);
    const firstPoll = (await lastPolledAt('ti_poll'))?.getTime() ?? NaN;
    expect(Number.isFinite(firstPoll)).toBe(true);

    partner.addEvents('ti_poll', [{ id: 'e4', timestamp: 1_700_000_004, ingredients: { title: 'four' } }]);
    expect(await pollTrigger(deps, 'ti_poll', call())).toEqual({
      found: true,
      received: 2,
      recorded: 1,
      refused: 0,
    });
    expect(await service.storedEventIds('ti_poll')).toEqual(['e2', 'e3', 'e4']);
    expect((await lastPolledAt('ti_poll'))?.getTime()).toBeGreaterThanOrEqual(firstPoll);

    const stored = await service.db
      .selectFrom('trigger_events')
      .select(['payload', 'event_timestamp'])
      .where('event_id', '=', 'e4')
      .executeTakeFirstOrThrow();
    expect(stored.payload).toEqual({ title: 'four', meta: { id: 'e4', timestamp: 1_700_000_004 } });
    expect(stored.event_timestamp.toISOString()).toBe(new Date(1_700_000_004_000).toISOString());

    // The calls followed the Service API: key, request id, and a TriggerCheckRequest body.
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

  it('fails permanently (no retry can help) with a clear error on a rejected service key, recording nothing', async () => {
    await service.subscribe('ti_badkey', {
      url: partner.url,
      serviceKey: 'sk_not_the_partner_key_0123456789',
    });
    partner.addEvents('ti_badkey', [{ id: 'x1', timestamp: 1_700_000_001 }]);
    const error: unknown = await pollTrigger(deps, 'ti_badkey', call()).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(PermanentJobError);
    expect((error as Error).cause).toBeInstanceOf(PartnerCallError);
    expect((error as Error).cause).toMatchObject({ status: 401, serviceKeyRejected: true });
    expect((error as Error).message).toMatch(/rejected the service key \(HTTP 401\).*service_key is updated/);
    expect((error as Error).message).not.toMatch(/sk_not_the_partner_key/);
    expect(await service.storedEventIds('ti_badkey')).toEqual([]);
    expect(await lastPolledAt('ti_badkey')).toBeNull();

    await service.subscribe('ti_forbidden', partner);
    partner.failNext(1, 403);
    await expect(pollTrigger(deps, 'ti_forbidden', call())).rejects.toThrow(PermanentJobError);
  });

  it('fails, to be retried, on a 503 and on a partner slower than the time-out', async () => {
    await service.subscribe('ti_slow', partner);
    partner.failNext(1, 503);
    const unavailable: unknown = await pollTrigger(deps, 'ti_slow', call()).catch(
      (thrown: unknown) => thrown,
    );
    expect(unavailable).toBeInstanceOf(PartnerCallError);
    expect(unavailable).not.toBeInstanceOf(PermanentJobError);
    expect((unavailable as Error).message).toMatch(/answered HTTP 503/);

    partner.hang = true;
    try {
      await expect(pollTrigger({ ...deps, timeoutMs: 300 }, 'ti_slow', call())).rejects.toThrow(
        /did not answer within 300 ms/,
      );
    } finally {
      partner.hang = false;
    }
    expect(await lastPolledAt('ti_slow')).toBeNull();
  });

  it('does nothing for a subscription deleted meanwhile', async () => {
    const calls = partner.calls.length;
    expect(await pollTrigger(deps, 'ti_deleted', call())).toEqual({
      found: false,
      received: 0,
      recorded: 0,
      refused: 0,
    });
    expect(partner.calls).toHaveLength(calls);
  });
});
