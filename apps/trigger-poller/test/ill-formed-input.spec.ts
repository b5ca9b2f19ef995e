import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollTrigger, type PollDependencies } from '../src/jobs/poll-trigger-job';
import { fetchTriggerEvents } from '../src/partner/partner-trigger-client';
import { errorsOf } from './support/problem-errors';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import {
  pollDependencies,
  startTriggerPollerTestService,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';
import { partnerSecurity } from '@ittd/platform';

// Issue 7, item 6: a NUL or a lone surrogate from outside (an operator's request, a partner's notification or
// poll answer) never reaches Postgres. Requests get a 400 naming the field and nothing is written; a partner
// event with one is refused with a reason while the others of the answer are stored. The test requests are
// JSON.stringify'd, which sends a NUL as `\u0000` and a lone surrogate as `\ud800` (as any client may).

const REASON = 'must be well-formed Unicode without NUL characters';
const NUL = String.fromCharCode(0);
const HIGH = String.fromCharCode(0xd800);
const LOW = String.fromCharCode(0xdfff);

let service: TriggerPollerTestService;
let partner: FakePartner;

beforeAll(async () => {
  service = await startTriggerPollerTestService();
  partner = await startFakePartner();
  await service.subscribe('ti_known', partner, { user_id: 'alice' });
});

afterAll(async () => {
  await partner?.close();
  await service?.stop();
});

describe('PUT /admin/subscriptions/:triggerIdentity', () => {
  const valid = {
    service_slug: 'fake',
    trigger_slug: 'new_thing',
    user_id: 'bob',
  };

  it('PUT /admin/partners answers 400 naming a URL or key with a NUL or a lone surrogate, and writes nothing', async () => {
    const response = await service.request('PUT', '/admin/partners/fake', {
      token: service.adminToken,
      body: {
        name: `Fake${LOW}`,
        api_base_url: `http://127.0.0.1:9/a${NUL}b`,
        service_key: `sk_fake_partner_${HIGH}0123456789abcdef`,
      },
    });
    expect(response.status, response.text).toBe(400);
    expect(errorsOf(response.body)).toEqual({ name: REASON, api_base_url: REASON, service_key: REASON });
    expect(
      await service.db.selectFrom('partners').select('slug').where('slug', '=', 'fake').execute(),
    ).toEqual([]);
  });

  it('answers 400 naming every field with a NUL or a lone surrogate, and writes nothing', async () => {
    const response = await service.request('PUT', '/admin/subscriptions/ti_bad', {
      token: service.adminToken,
      body: {
        ...valid,
        trigger_fields: { city: `a${NUL}b`, where: { lat: 1, lng: 2, address: `x${LOW}` } },
        user_id: `x${HIGH}y`,
        user_timezone: `Europe/Berlin${NUL}`,
      },
    });
    expect(response.status, response.text).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(errorsOf(response.body)).toEqual({
      'trigger_fields.city': REASON,
      'trigger_fields.where.address': REASON,
      user_id: REASON,
      user_timezone: REASON,
    });
    expect(await service.storedSubscriptionIds()).toEqual(['ti_known']);
  });

  it('answers 400 naming a __proto__ trigger field, and writes nothing', async () => {
    const body: unknown = JSON.parse(
      JSON.stringify({ ...valid, trigger_fields: { city: 'Berlin' } }).replace(
        '"trigger_fields":{',
        '"trigger_fields":{"__proto__":"x",',
      ),
    );
    const response = await service.request('PUT', '/admin/subscriptions/ti_proto', {
      token: service.adminToken,
      body,
    });
    expect(response.status, response.text).toBe(400);
    expect(errorsOf(response.body)).toEqual({
      'trigger_fields.__proto__': 'field names are slugs: lowercase letters, digits and underscores',
    });
    expect(await service.storedSubscriptionIds()).toEqual(['ti_known']);
  });
});

describe('POST /v1/notifications', () => {
  it('answers 400 naming a user_id with a NUL or a lone surrogate, and enqueues nothing', async () => {
    for (const userId of [`a${NUL}b`, `x${HIGH}y`]) {
      const response = await service.request('POST', '/v1/notifications', {
        headers: { 'IFTTT-Service-Key': partner.serviceKey },
        body: { data: [{ user_id: 'alice' }, { user_id: userId }] },
      });
      expect(response.status, response.text).toBe(400);
      expect(errorsOf(response.body)).toEqual({ 'data.1.user_id': REASON });
    }
    expect(await service.waitingPolls()).toEqual([]);
  });
});

describe('a partner answer with ill-formed strings', () => {
  const deps = (): PollDependencies => pollDependencies(service, { eventLimit: 10 });
  const call = () => ({ signal: new AbortController().signal, requestId: 'test-ill-formed' });

  it('refuses only the bad events, with a reason, stores the others, and the poll succeeds', async () => {
    await service.subscribe('ti_events', partner);
    partner.addEvents('ti_events', [
      { id: 'good_1', timestamp: 1_700_000_001, ingredients: { title: 'Köln 🌧' } },
      { id: 'nul_value', timestamp: 1_700_000_002, ingredients: { title: `a${NUL}b` } },
      { id: `lone${HIGH}`, timestamp: 1_700_000_003 },
      { id: 'bad_key', timestamp: 1_700_000_004, ingredients: { [`k${LOW}`]: 'x' } },
      { id: 'far_future', timestamp: 9_000_000_000_000 },
      { id: 'good_2', timestamp: 1_700_000_005, ingredients: { ['__proto__']: 'kept', title: '😀' } },
    ]);

    const checked = await fetchTriggerEvents({
      apiBaseUrl: partner.url,
      urlPolicy: partnerSecurity(service.ctx).urlPolicy,
      serviceKey: partner.serviceKey,
      serviceSlug: 'fake',
      triggerSlug: 'new_thing',
      triggerIdentity: 'ti_events',
      triggerFields: {},
      userTimezone: 'UTC',
      limit: 10,
      timeoutMs: 5000,
      maxAnswerBytes: 1_048_576,
      signal: new AbortController().signal,
      requestId: 'test-ill-formed-fetch',
    });
    expect(checked.events.map((event) => event.eventId)).toEqual(['good_2', 'good_1']);
    expect(checked.refused).toEqual([
      { index: 0, eventId: 'far_future', errors: [{ name: 'meta.timestamp', reason: expect.any(String) }] },
      {
        index: 2,
        eventId: 'bad_key',
        errors: [{ name: `k${LOW}`, reason: expect.stringMatching(/well-formed/) }],
      },
      { index: 3, errors: [{ name: 'meta.id', reason: REASON }] },
      { index: 4, eventId: 'nul_value', errors: [{ name: 'title', reason: REASON }] },
    ]);

    expect(await pollTrigger(deps(), 'ti_events', call())).toEqual({
      found: true,
      baseline: true,
      received: 6,
      recorded: 2,
      refused: 4,
      published: 0,
    });
    expect(await service.storedEventIds('ti_events')).toEqual(['good_1', 'good_2']);
    const stored = await service.db
      .selectFrom('trigger_events')
      .select('payload')
      .where('event_id', '=', 'good_1')
      .executeTakeFirstOrThrow();
    expect(stored.payload).toEqual({ title: 'Köln 🌧', meta: { id: 'good_1', timestamp: 1_700_000_001 } });
    // An ingredient named __proto__ is kept as the partner sent it, not dropped.
    const withProto = await service.db
      .selectFrom('trigger_events')
      .select('payload')
      .where('event_id', '=', 'good_2')
      .executeTakeFirstOrThrow();
    expect(Object.keys(withProto.payload).sort()).toEqual(['__proto__', 'meta', 'title']);
    const polled = await service.db
      .selectFrom('trigger_subscriptions')
      .select('last_polled_at')
      .where('trigger_identity', '=', 'ti_events')
      .executeTakeFirstOrThrow();
    expect(polled.last_polled_at).not.toBeNull();
  });
});
