import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeSubscription } from '../src/data/subscription-repository';
import {
  IDENTITY_DELETE_QUEUE,
  sendIdentityDelete,
  type IdentityDeleteDependencies,
} from '../src/jobs/delete-trigger-identity-job';
import { enqueueDuePollsOnce } from '../src/jobs/enqueue-due-polls-schedule';
import { pollJobs } from '../src/jobs/poll-jobs';
import { PartnerConcurrency } from '../src/partner/partner-concurrency';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import {
  partnerSlug,
  startTriggerPollerTestService,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';
import { partnerSecurity } from '@ittd/platform';

let service: TriggerPollerTestService;
let partner: FakePartner;
let retries: { identity: string; delayMs: number }[];
let deps: IdentityDeleteDependencies;
const job = { id: 'job-1', signal: new AbortController().signal };

/** Subscribes then removes an identity: a pending DELETE, as the last applet's going leaves it. */
async function pendingDelete(
  identity: string,
  who: { url: string; serviceKey: string } = partner,
  requestId?: string,
): Promise<void> {
  await service.subscribe(identity, who, { trigger_slug: 'new_thing' });
  await service.db.transaction().execute((trx) => removeSubscription(trx, identity, { requestId }));
}

async function pendingRow(identity: string) {
  return service.db
    .selectFrom('trigger_identity_deletions')
    .select(['attempts', 'last_error', 'gave_up_at', 'next_attempt_at'])
    .where('trigger_identity', '=', identity)
    .executeTakeFirst();
}

beforeAll(async () => {
  service = await startTriggerPollerTestService();
  partner = await startFakePartner();
  deps = {
    db: service.db,
    logger: service.ctx.logger,
    timeoutMs: 5000,
    partnerConcurrency: new PartnerConcurrency(5),
    keyring: partnerSecurity(service.ctx).keyring,
    urlPolicy: partnerSecurity(service.ctx).urlPolicy,
    retryBaseMs: 1000,
    retryMaxMs: 6 * 3600 * 1000,
    maxAttempts: 3,
    retry: async (payload, delayMs) => {
      retries.push({ identity: payload.trigger_identity, delayMs });
    },
  };
});

afterAll(async () => {
  await partner?.close();
  await service?.stop();
});

describe('sendIdentityDelete', () => {
  it('sends the DELETE with the key and the request id of the change, and is done on 200 and on 404', async () => {
    retries = [];
    partner.triggerIdentityDeletes.known.add('ti_known');
    await pendingDelete('ti_known', partner, 'req-applet-deleted');
    expect(await sendIdentityDelete(deps, { trigger_identity: 'ti_known' }, job)).toBe('deleted');
    await pendingDelete('ti_unknown');
    expect(await sendIdentityDelete(deps, { trigger_identity: 'ti_unknown' }, job)).toBe(
      'unknown-to-partner',
    );

    expect(
      partner.triggerIdentityDeletes.calls.map((call) => [
        call.triggerSlug,
        call.triggerIdentity,
        call.headers['ifttt-service-key'],
        call.headers['x-request-id'],
        call.status,
      ]),
    ).toEqual([
      ['new_thing', 'ti_known', partner.serviceKey, 'req-applet-deleted', 200],
      ['new_thing', 'ti_unknown', partner.serviceKey, 'delete-job-1', 404],
    ]);
    expect(await pendingRow('ti_known')).toBeUndefined();
    expect(await pendingRow('ti_unknown')).toBeUndefined();
    // Run again (a duplicate job): nothing pending, no call.
    expect(await sendIdentityDelete(deps, { trigger_identity: 'ti_known' }, job)).toBe('nothing-pending');
    expect(partner.triggerIdentityDeletes.calls).toHaveLength(2);
    expect(retries).toEqual([]);
  });

  it('retries a 503 with a doubling backoff, and gives up after the last attempt', async () => {
    retries = [];
    await pendingDelete('ti_flaky');
    partner.triggerIdentityDeletes.failNext(3, 503);
    expect(await sendIdentityDelete(deps, { trigger_identity: 'ti_flaky' }, job)).toBe('retry');
    expect(await sendIdentityDelete(deps, { trigger_identity: 'ti_flaky' }, job)).toBe('retry');
    expect(retries.map((retry) => retry.identity)).toEqual(['ti_flaky', 'ti_flaky']);
    expect(retries[0].delayMs).toBeGreaterThanOrEqual(800);
    expect(retries[0].delayMs).toBeLessThanOrEqual(1000);
    expect(retries[1].delayMs).toBeGreaterThanOrEqual(1600);
    expect(retries[1].delayMs).toBeLessThanOrEqual(2000);
    expect(await pendingRow('ti_flaky')).toMatchObject({ attempts: 2, gave_up_at: null });
    expect(await sendIdentityDelete(deps, { trigger_identity: 'ti_flaky' }, job)).toBe('gave-up');
    const row = await pendingRow('ti_flaky');
    expect(row?.attempts).toBe(3);
    expect(row?.gave_up_at).not.toBeNull();
    expect(row?.last_error).toMatch(/answered HTTP 503/);
    expect(retries).toHaveLength(2);
  });

  it('gives up at once on a rejected key, and a new partner key makes it pending again', async () => {
    retries = [];
    const revoked = { url: partner.url, serviceKey: 'sk_revoked_0123456789abcdef' };
    await pendingDelete('ti_revoked', revoked);
    expect(await sendIdentityDelete(deps, { trigger_identity: 'ti_revoked' }, job)).toBe('gave-up');
    const row = await pendingRow('ti_revoked');
    expect(row?.gave_up_at).not.toBeNull();
    expect(row?.last_error).toMatch(/rejected the service key \(HTTP 401\)/);
    expect(row?.last_error).not.toContain(revoked.serviceKey);
    expect(retries).toEqual([]);

    await service.putPartner(partnerSlug(revoked), partner);
    expect(await pendingRow('ti_revoked')).toMatchObject({ attempts: 0, gave_up_at: null });
    expect(await sendIdentityDelete(deps, { trigger_identity: 'ti_revoked' }, job)).toBe(
      'unknown-to-partner',
    );
  });

  it('sends nothing for an identity subscribed again, and the schedule enqueues DELETEs whose job was lost', async () => {
    const calls = partner.triggerIdentityDeletes.calls.length;
    await pendingDelete('ti_back');
    await service.subscribe('ti_back', partner);
    // upsertSubscription cancels the pending DELETE; a job that ran before that commit finds the subscription.
    expect(await pendingRow('ti_back')).toBeUndefined();
    await service.db
      .insertInto('trigger_identity_deletions')
      .values({ trigger_identity: 'ti_back', service_slug: partnerSlug(partner), trigger_slug: 'new_thing' })
      .execute();
    expect(await sendIdentityDelete(deps, { trigger_identity: 'ti_back' }, job)).toBe('in-use-again');
    expect(await pendingRow('ti_back')).toBeUndefined();
    expect(partner.triggerIdentityDeletes.calls).toHaveLength(calls);

    await pendingDelete('ti_lost');
    await service.db
      .updateTable('trigger_identity_deletions')
      .set({ next_attempt_at: sql<Date>`now() - interval '10 minutes'` })
      .where('trigger_identity', '=', 'ti_lost')
      .execute();
    expect(await enqueueDuePollsOnce(service.ctx)).toMatchObject({ deletes: 1 });
    const waiting = await pollJobs(service.ctx).queue.listWaiting(IDENTITY_DELETE_QUEUE);
    expect(waiting.map((each) => each.payload)).toContainEqual({ trigger_identity: 'ti_lost' });
    // Claimed: the next run does not enqueue it again while its job waits or runs.
    expect(await enqueueDuePollsOnce(service.ctx)).toMatchObject({ deletes: 0 });
  });
});
