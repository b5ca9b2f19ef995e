import { randomUUID } from 'node:crypto';
import {
  OutboxRelay,
  publish,
  runEventsMigrations,
  subscribe,
  type RunningService,
  type Subscription,
} from '@ittd/platform';
import { createTestDatabase, type TestDatabase } from '@ittd/platform/testing';
import {
  appletChanged,
  partnerServiceChanged,
  partnerServiceKeyContext,
  triggerEventRecorded,
  type AppletChangedEvent,
  type TriggerEventRecordedEvent,
} from '@ittd/engine-events';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { configSchema } from '../src/config';
import type { DB } from '../src/data/database';
import { handleAppletChanged } from '../src/events/applet-changed-handler';
import { handlePartnerServiceChanged } from '../src/events/partner-service-changed-handler';
import { IDENTITY_DELETE_QUEUE } from '../src/jobs/delete-trigger-identity-job';
import { pollJobs } from '../src/jobs/poll-jobs';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import {
  startTriggerPollerTestService,
  waitFor,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';
import { partnerKeyContext } from '../src/data/partner-key-sealing';
import { partnerSecurity } from '@ittd/platform';

/** A service key sealed as applets publishes it (the engine's EVENTS_SECRETS_KEYS, this slug's context). */
function sealForEvent(serviceKey: string, slug: string): string {
  return partnerSecurity(service.ctx).eventKeys.seal(serviceKey, partnerServiceKeyContext(slug));
}

let service: TriggerPollerTestService;
let partner: FakePartner;

/** An applet.changed event; `overrides` may replace any field (trigger fields via `fields`). */
function appletEvent(
  appletId: string,
  version: number,
  overrides: Partial<Omit<AppletChangedEvent, 'trigger'>> & {
    identity?: string;
    fields?: Record<string, string>;
  } = {},
): AppletChangedEvent {
  const { identity, fields, ...rest } = overrides;
  return {
    applet_id: appletId,
    version,
    change: 'saved',
    enabled: true,
    disabled_reason: null,
    user: { id: 'user-1', timezone: 'Europe/Berlin' },
    trigger: {
      service: 'weather',
      slug: 'rain_tomorrow',
      fields: fields ?? { city: 'Berlin' },
      trigger_identity: identity ?? 'ti_berlin',
    },
    action: { service: 'slack', slug: 'post_message', fields: { text: 'Rain in {{City}}' } },
    changed_at: new Date().toISOString(),
    ...rest,
  };
}

beforeAll(async () => {
  service = await startTriggerPollerTestService({ IDENTITY_DELETE_RETRY_BASE_MS: '50' });
  partner = await startFakePartner();
});

afterAll(async () => {
  await partner?.close();
  await service?.stop();
});

describe('applet.changed handler (called directly)', () => {
  const deps = () => ({
    db: service.db,
    jobs: pollJobs(service.ctx),
    security: partnerSecurity(service.ctx),
  });
  const handle = (event: AppletChangedEvent, requestId?: string) =>
    handleAppletChanged(deps(), event, { eventId: randomUUID(), requestId });
  const subscription = (identity: string) =>
    service.db
      .selectFrom('trigger_subscriptions')
      .select(['service_slug', 'trigger_slug', 'trigger_fields', 'user_id', 'user_timezone', 'managed_by'])
      .where('trigger_identity', '=', identity)
      .executeTakeFirst();
  const pendingDeletes = async () =>
    (
      await service.db
        .selectFrom('trigger_identity_deletions')
        .select(['trigger_identity', 'request_id'])
        .orderBy('trigger_identity')
        .execute()
    ).map((row) => `${row.trigger_identity}:${row.request_id}`);

  it('polls an identity while at least one enabled applet uses it, and records its DELETE when the last goes', async () => {
    expect(await handle(appletEvent('a1', 1))).toEqual({ subscribed: ['ti_berlin'], unsubscribed: [] });
    expect(await subscription('ti_berlin')).toEqual({
      service_slug: 'weather',
      trigger_slug: 'rain_tomorrow',
      trigger_fields: { city: 'Berlin' },
      user_id: 'user-1',
      user_timezone: 'Europe/Berlin',
      managed_by: 'applets',
    });
    // The baseline poll is enqueued at once.
    expect(await service.waitingPolls()).toContain('ti_berlin');

    await handle(appletEvent('a2', 1));
    await handle(appletEvent('a1', 2, { change: 'disabled', enabled: false }));
    expect(await subscription('ti_berlin')).toBeDefined();
    expect(await pendingDeletes()).toEqual([]);

    expect(
      await handle(appletEvent('a2', 2, { change: 'deleted', enabled: false }), 'req-delete-a2'),
    ).toEqual({
      subscribed: [],
      unsubscribed: ['ti_berlin'],
    });
    expect(await subscription('ti_berlin')).toBeUndefined();
    expect(await pendingDeletes()).toEqual(['ti_berlin:req-delete-a2']);
    const waiting = await pollJobs(service.ctx).queue.listWaiting(IDENTITY_DELETE_QUEUE);
    expect(waiting.map((job) => job.payload)).toEqual([{ trigger_identity: 'ti_berlin' }]);

    // Enabled again: subscribed again (a baseline again: its events went with the subscription), DELETE cancelled.
    await handle(appletEvent('a1', 3, { change: 'enabled' }));
    expect(await subscription('ti_berlin')).toBeDefined();
    expect(await pendingDeletes()).toEqual([]);
  });

  it('applies only newer versions, and a redelivered event once', async () => {
    await handle(appletEvent('v1', 5, { identity: 'ti_versions', change: 'disabled', enabled: false }));
    // An older event arriving late (another replica) changes nothing.
    expect(await handle(appletEvent('v1', 4, { identity: 'ti_versions' }))).toEqual({
      subscribed: [],
      unsubscribed: [],
    });
    expect(await subscription('ti_versions')).toBeUndefined();

    const eventId = randomUUID();
    const enable = appletEvent('v1', 6, { identity: 'ti_versions' });
    expect(await handleAppletChanged(deps(), enable, { eventId, requestId: undefined })).toEqual({
      subscribed: ['ti_versions'],
      unsubscribed: [],
    });
    // The same event again (a redelivery): nothing applied twice.
    expect(await handleAppletChanged(deps(), enable, { eventId, requestId: undefined })).toEqual({
      subscribed: [],
      unsubscribed: [],
    });
    const stored = await service.db
      .selectFrom('applet_triggers')
      .select(['version', 'enabled'])
      .where('applet_id', '=', 'v1')
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ version: 6, enabled: true });
  });

  it('moves an applet whose trigger fields changed to its new identity, removing the old one', async () => {
    await handle(appletEvent('m1', 1, { identity: 'ti_paris' }));
    await handle(appletEvent('m1', 2, { identity: 'ti_rome', fields: { city: 'Rome' } }));
    expect(await subscription('ti_paris')).toBeUndefined();
    expect(await subscription('ti_rome')).toMatchObject({ trigger_fields: { city: 'Rome' } });
    expect(await pendingDeletes()).toContain('ti_paris:null');
  });

  it("leaves an operator's own subscription alone when no applet uses it", async () => {
    await service.subscribe('ti_operator', partner, { service_slug: 'weather' });
    await handle(appletEvent('o1', 1, { identity: 'ti_operator' }));
    await handle(appletEvent('o1', 2, { identity: 'ti_operator', change: 'deleted', enabled: false }));
    // Applets took it over when an applet used it, so it went with the last applet.
    expect(await subscription('ti_operator')).toBeUndefined();

    await service.subscribe('ti_operator_only', partner, { service_slug: 'weather' });
    await handle(appletEvent('o2', 1, { identity: 'ti_other', change: 'disabled', enabled: false }));
    await handle(appletEvent('o2', 2, { identity: 'ti_operator_only', change: 'disabled', enabled: false }));
    expect(await subscription('ti_operator_only')).toMatchObject({ managed_by: 'operator' });
    // And the admin API refuses to delete a subscription enabled applets use.
    await handle(appletEvent('o3', 1, { identity: 'ti_operator_only' }));
    const refused = await service.request('DELETE', '/admin/subscriptions/ti_operator_only', {
      token: service.adminToken,
    });
    expect(refused.status).toBe(409);
  });

  it('an applet whose partner arrives after it is polled as soon as the partner is known', async () => {
    // applet.changed and partner-service.changed are separate streams: the applet can come first.
    const late = appletEvent('late1', 1, { identity: 'ti_late_partner' });
    await handle({ ...late, trigger: { ...late.trigger, service: 'latecomer' } });
    expect(await subscription('ti_late_partner')).toMatchObject({ service_slug: 'latecomer' });
    // Its first poll finds no partner and backs the subscription off; the queue no longer holds a poll.
    await service.db
      .updateTable('trigger_subscriptions')
      .set({ consecutive_failures: 1, next_poll_at: new Date(Date.now() + 3_600_000) })
      .where('trigger_identity', '=', 'ti_late_partner')
      .execute();
    // (This file runs no worker: drop the waiting baseline poll as if it had run and failed.)
    const jobKeys = await service.ctx.redis.keys(`${service.env.REDIS_KEY_PREFIX}jobs:*`);
    if (jobKeys.length > 0) await service.ctx.redis.del(...jobKeys);
    expect(await service.waitingPolls()).not.toContain('ti_late_partner');
    await handlePartnerServiceChanged(
      deps(),
      {
        slug: 'latecomer',
        version: 1,
        name: 'Latecomer',
        api_base_url: 'https://latecomer.example',
        service_key_sealed: sealForEvent('sk_latecomer_0123456789', 'latecomer'),
        changed_at: new Date().toISOString(),
      },
      { eventId: randomUUID(), requestId: 'req-partner' },
    );
    expect(await service.waitingPolls()).toContain('ti_late_partner');
  });

  it('keeps one partner row per slug from partner-service.changed, newer versions only', async () => {
    const event = {
      slug: 'mail',
      version: 2,
      name: 'Mail',
      api_base_url: 'https://mail.example',
      service_key_sealed: sealForEvent('sk_mail_v2_0123456789', 'mail'),
      changed_at: new Date().toISOString(),
    };
    const partnerDeps = deps();
    expect(await handlePartnerServiceChanged(partnerDeps, event, { eventId: randomUUID() })).toBe(true);
    expect(
      await handlePartnerServiceChanged(
        partnerDeps,
        { ...event, version: 1, service_key_sealed: sealForEvent('sk_mail_v1_0123456789', 'mail') },
        { eventId: randomUUID() },
      ),
    ).toBe(false);
    const row = await service.db
      .selectFrom('partners')
      .select(['name', 'service_key_sealed', 'version'])
      .where('slug', '=', 'mail')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ name: 'Mail', version: 2 });
    // Stored sealed under this service's own keys (not the events keys), never in clear.
    expect(row.service_key_sealed).not.toContain('sk_mail');
    expect(partnerSecurity(service.ctx).keyring.open(row.service_key_sealed, partnerKeyContext('mail'))).toBe(
      'sk_mail_v2_0123456789',
    );
  });
});

describe('events end to end: applets publish, the worker keeps subscriptions, polls, publishes and deletes', () => {
  // Plays applets' part: its own database with the platform's outbox, and a relay to the same EVENTS_PREFIX.
  let applets: TestDatabase;
  let appletsDb: Kysely<unknown>;
  let relay: OutboxRelay;
  let worker: RunningService<typeof configSchema, DB>;
  let actions: Subscription<TriggerEventRecordedEvent>;
  const received: { event: TriggerEventRecordedEvent; requestId: string | undefined }[] = [];

  const publishFromApplets = async <T>(
    topic: Parameters<typeof publish<T>>[1],
    event: T,
    requestId?: string,
  ): Promise<void> => {
    await appletsDb.transaction().execute((trx) => publish(trx, topic, event, { requestId }));
  };

  beforeAll(async () => {
    applets = await createTestDatabase('tp_fake_applets');
    appletsDb = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: applets.url, max: 2 }) }),
    });
    await runEventsMigrations(appletsDb);
    relay = new OutboxRelay({
      db: appletsDb,
      redis: service.redis,
      prefix: service.env.EVENTS_PREFIX,
      pollIntervalMs: 20,
    });
    await relay.start?.();
    // The DELETEs the handler tests above recorded are not this test's: their jobs find nothing to send.
    await service.db.deleteFrom('trigger_identity_deletions').execute();
    worker = await service.startWorker();
    // Plays actions' part: a subscription of its own to what trigger-poller publishes.
    actions = subscribe(
      triggerEventRecorded,
      'test-actions',
      async (event, context) => {
        received.push({ event, requestId: context.requestId });
      },
      { redis: service.redis, prefix: service.env.EVENTS_PREFIX, blockMs: 100 },
    );
    await actions.start();
  });

  afterAll(async () => {
    await actions?.stop();
    await relay?.stop();
    await appletsDb?.destroy();
    await applets?.drop();
  });

  it('runs an applet from creation to deletion: baseline, one event with the notification id, DELETE retried after a 503', async () => {
    const slug = 'e2e_partner';
    await publishFromApplets(partnerServiceChanged, {
      slug,
      version: 1,
      name: 'E2E partner',
      api_base_url: partner.url,
      service_key_sealed: sealForEvent(partner.serviceKey, slug),
      changed_at: new Date().toISOString(),
    });
    partner.addEvents('ti_e2e', [{ id: 'old_1', timestamp: 1_700_000_001, ingredients: { City: 'Berlin' } }]);
    await publishFromApplets(
      appletChanged,
      {
        ...appletEvent('e2e', 1, { identity: 'ti_e2e' }),
        trigger: { ...appletEvent('e2e', 1).trigger, service: slug, trigger_identity: 'ti_e2e' },
      },
      'req-create-applet',
    );

    // The subscription appears and its baseline poll records old_1 without publishing it.
    await waitFor('the baseline of ti_e2e', async () =>
      (await service.storedEventIds('ti_e2e')).includes('old_1'),
    );
    const baselineCall = partner.calls.find(
      (call) => (call.body as { trigger_identity?: string }).trigger_identity === 'ti_e2e',
    );
    expect(baselineCall?.headers['ifttt-service-key']).toBe(partner.serviceKey);

    // A new event, then the partner's realtime notification with its own X-Request-ID.
    partner.addEvents('ti_e2e', [{ id: 'new_1', timestamp: 1_700_000_100, ingredients: { City: 'Paris' } }]);
    const notified = await service.request('POST', '/v1/notifications', {
      headers: { 'IFTTT-Service-Key': partner.serviceKey, 'X-Request-ID': 'req-notify-e2e' },
      body: { data: [{ trigger_identity: 'ti_e2e' }] },
    });
    expect(notified.body).toEqual({ matched: 1, enqueued: 1 });
    await waitFor('the new event delivered to a subscriber', () => received.length > 0);
    expect(received).toEqual([
      {
        event: {
          trigger_identity: 'ti_e2e',
          service: slug,
          trigger: 'rain_tomorrow',
          event_id: 'new_1',
          ingredients: { City: 'Paris' },
          occurred_at: new Date(1_700_000_100_000).toISOString(),
          recorded_at: expect.any(String),
          // The applets the event may fire, with the version applied when it was recorded.
          applets: [{ applet_id: 'e2e', version: 1 }],
        },
        requestId: 'req-notify-e2e',
      },
    ]);

    // The applet goes: the partner gets the DELETE, retried after a 503.
    partner.triggerIdentityDeletes.failNext(1, 503);
    await publishFromApplets(
      appletChanged,
      {
        ...appletEvent('e2e', 2, { change: 'deleted', enabled: false }),
        trigger: { ...appletEvent('e2e', 2).trigger, service: slug, trigger_identity: 'ti_e2e' },
      },
      'req-delete-applet',
    );
    await waitFor('the DELETE to succeed', () =>
      partner.triggerIdentityDeletes.calls.some(
        (call) => call.triggerIdentity === 'ti_e2e' && call.status === 200,
      ),
    );
    const deletes = partner.triggerIdentityDeletes.calls.filter((call) => call.triggerIdentity === 'ti_e2e');
    expect(deletes.map((call) => [call.triggerSlug, call.status])).toEqual([
      ['rain_tomorrow', 503],
      ['rain_tomorrow', 200],
    ]);
    expect(deletes.map((call) => call.headers['ifttt-service-key'])).toEqual([
      partner.serviceKey,
      partner.serviceKey,
    ]);
    expect(deletes.map((call) => call.headers['x-request-id'])).toEqual([
      'req-delete-applet',
      'req-delete-applet',
    ]);
    await waitFor(
      'the pending DELETE removed',
      async () =>
        (
          await service.db
            .selectFrom('trigger_identity_deletions')
            .select('trigger_identity')
            .where('trigger_identity', '=', 'ti_e2e')
            .execute()
        ).length === 0,
    );
    expect(await pollJobs(worker.ctx).queue.listDead(IDENTITY_DELETE_QUEUE)).toEqual([]);
    // Exactly one event was delivered over the whole run (the baseline's old_1 never).
    expect(received).toHaveLength(1);
  });
});
