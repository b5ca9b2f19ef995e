import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTriggerPollerTestService,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';

let service: TriggerPollerTestService;
const partner = { url: 'https://weather.example.com/api', serviceKey: 'sk_weather_secret_0123456789abcdef' };

beforeAll(async () => {
  service = await startTriggerPollerTestService();
});

afterAll(async () => {
  await service?.stop();
});

describe('admin authentication', () => {
  it('answers 401 with a Bearer challenge without or with a wrong admin token', async () => {
    const missing = await service.request('GET', '/admin/subscriptions/ti_1');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    const wrong = await service.request('PUT', '/admin/subscriptions/ti_1', {
      token: 'not-the-token',
      body: {},
    });
    expect(wrong.status).toBe(401);
    expect(await service.db.selectFrom('trigger_subscriptions').select('trigger_identity').execute()).toEqual(
      [],
    );
  });
});

describe('subscriptions', () => {
  it('creates then replaces a subscription, stores the key and never returns it', async () => {
    const created = await service.subscribe('ti_1', partner, { user_timezone: 'Europe/Berlin' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      trigger_identity: 'ti_1',
      service_slug: 'fake',
      api_base_url: partner.url,
      trigger_fields: { city: 'Berlin' },
      user_timezone: 'Europe/Berlin',
      last_polled_at: null,
    });
    expect(created.text).not.toContain(partner.serviceKey);
    expect(created.body).not.toHaveProperty('service_key');
    expect(created.body).not.toHaveProperty('service_key_sha256');

    const newKey = 'sk_weather_rotated_0123456789abcdef';
    const replaced = await service.subscribe(
      'ti_1',
      { ...partner, serviceKey: newKey },
      { trigger_fields: { city: 'Paris' } },
    );
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ trigger_fields: { city: 'Paris' } });
    expect(replaced.text).not.toContain(newKey);

    const read = await service.request('GET', '/admin/subscriptions/ti_1', { token: service.adminToken });
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(newKey);
    expect(read.body).not.toHaveProperty('service_key');

    const stored = await service.db
      .selectFrom('trigger_subscriptions')
      .select('service_key')
      .where('trigger_identity', '=', 'ti_1')
      .executeTakeFirstOrThrow();
    expect(stored.service_key).toBe(newKey);
  });

  it('answers 400 naming invalid fields without echoing the key, and writes nothing', async () => {
    const bad = await service.request('PUT', '/admin/subscriptions/ti_2', {
      token: service.adminToken,
      body: {
        service_slug: 'Bad Slug',
        api_base_url: 'ftp://x',
        service_key: 'short-secret',
        trigger_slug: 'ok',
        user_id: '',
      },
    });
    expect(bad.status).toBe(400);
    const names = (bad.body as { errors: { name: string }[] }).errors.map((error) => error.name).sort();
    expect(names).toEqual(['api_base_url', 'service_key', 'service_slug', 'user_id']);
    expect(bad.text).not.toContain('short-secret');
    const badIdentity = await service.request('PUT', '/admin/subscriptions/has%20space', {
      token: service.adminToken,
      body: {},
    });
    expect(badIdentity.status).toBe(400);
    expect((badIdentity.body as { errors: { name: string }[] }).errors[0].name).toBe('triggerIdentity');
    expect(
      await service.db.selectFrom('trigger_subscriptions').select('trigger_identity').execute(),
    ).toHaveLength(1);
  });

  it('lists recent events newest first and deletes a subscription with its events', async () => {
    await service.db
      .insertInto('trigger_events')
      .values(
        [1, 2, 3].map((n) => ({
          trigger_identity: 'ti_1',
          event_id: `e${n}`,
          payload: JSON.stringify({ meta: { id: `e${n}`, timestamp: 1_700_000_000 + n } }),
          event_timestamp: new Date((1_700_000_000 + n) * 1000),
        })),
      )
      .execute();
    const listed = await service.request('GET', '/admin/subscriptions/ti_1/events?limit=2', {
      token: service.adminToken,
    });
    expect(listed.status).toBe(200);
    expect((listed.body as { data: { event_id: string }[] }).data.map((event) => event.event_id)).toEqual([
      'e3',
      'e2',
    ]);
    const tooMany = await service.request('GET', '/admin/subscriptions/ti_1/events?limit=1000', {
      token: service.adminToken,
    });
    expect(tooMany.status).toBe(400);
    const hex = await service.request('GET', '/admin/subscriptions/ti_1/events?limit=0x2', {
      token: service.adminToken,
    });
    expect(hex.status).toBe(400);
    expect((hex.body as { errors: { name: string }[] }).errors.map((e) => e.name)).toEqual(['limit']);

    const deleted = await service.request('DELETE', '/admin/subscriptions/ti_1', {
      token: service.adminToken,
    });
    expect(deleted.status).toBe(204);
    expect(await service.db.selectFrom('trigger_events').select('event_id').execute()).toEqual([]);
    const gone = await service.request('GET', '/admin/subscriptions/ti_1/events', {
      token: service.adminToken,
    });
    expect(gone.status).toBe(404);
    expect(
      (await service.request('DELETE', '/admin/subscriptions/ti_1', { token: service.adminToken })).status,
    ).toBe(404);
  });
});
