import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTriggerPollerTestService,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';
import { partnerKeyContext } from '../src/data/partner-key-sealing';
import { partnerSecurity } from '@ittd/platform';

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

describe('partners', () => {
  it('creates then replaces a partner, stores the key and its digest, never returns them', async () => {
    const created = await service.putPartner('weather', partner);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      slug: 'weather',
      name: 'weather',
      api_base_url: partner.url,
      version: 0,
    });
    expect(created.text).not.toContain(partner.serviceKey);
    expect(created.body).not.toHaveProperty('service_key');
    expect(created.body).not.toHaveProperty('service_key_sha256');

    const newKey = 'sk_weather_rotated_0123456789abcdef';
    const replaced = await service.putPartner('weather', { ...partner, serviceKey: newKey });
    expect(replaced.status).toBe(200);
    expect(replaced.text).not.toContain(newKey);
    for (const path of ['/admin/partners', '/admin/partners/weather']) {
      const read = await service.request('GET', path, { token: service.adminToken });
      expect(read.status).toBe(200);
      expect(read.text).not.toContain(newKey);
      expect(read.text).not.toContain('service_key');
    }
    const stored = await service.db
      .selectFrom('partners')
      .select('service_key_sealed')
      .where('slug', '=', 'weather')
      .executeTakeFirstOrThrow();
    expect(stored.service_key_sealed).not.toContain(newKey);
    expect(
      partnerSecurity(service.ctx).keyring.open(stored.service_key_sealed, partnerKeyContext('weather')),
    ).toBe(newKey);
    expect((await service.request('GET', '/admin/partners/nope', { token: service.adminToken })).status).toBe(
      404,
    );
  });

  it('answers 400 naming invalid partner fields without echoing the key', async () => {
    const bad = await service.request('PUT', '/admin/partners/Bad-Slug', {
      token: service.adminToken,
      body: { api_base_url: 'ftp://x', service_key: 'short-secret' },
    });
    expect(bad.status).toBe(400);
    expect((bad.body as { errors: { name: string }[] }).errors.map((e) => e.name)).toEqual(['slug']);
    const badBody = await service.request('PUT', '/admin/partners/weather2', {
      token: service.adminToken,
      body: { api_base_url: 'ftp://x', service_key: 'short-secret' },
    });
    expect(badBody.status).toBe(400);
    const names = (badBody.body as { errors: { name: string }[] }).errors.map((e) => e.name).sort();
    expect(names).toEqual(['api_base_url', 'service_key']);
    expect(badBody.text).not.toContain('short-secret');
  });
});

describe('subscriptions', () => {
  it('creates then replaces a subscription referencing a partner, with its polling state', async () => {
    const created = await service.subscribe('ti_1', partner, {
      service_slug: 'weather',
      user_timezone: 'Europe/Berlin',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      trigger_identity: 'ti_1',
      service_slug: 'weather',
      trigger_fields: { city: 'Berlin' },
      user_timezone: 'Europe/Berlin',
      managed_by: 'operator',
      last_polled_at: null,
      baselined_at: null,
      consecutive_failures: 0,
      last_error: null,
    });
    expect(created.text).not.toContain(partner.serviceKey);

    const replaced = await service.subscribe('ti_1', partner, {
      service_slug: 'weather',
      trigger_fields: { city: 'Paris' },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ trigger_fields: { city: 'Paris' } });
    const read = await service.request('GET', '/admin/subscriptions/ti_1', { token: service.adminToken });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ service_slug: 'weather', trigger_fields: { city: 'Paris' } });
  });

  it('answers 422 naming service_slug for an unknown partner, and 400 for the older shape with URL and key', async () => {
    const unknown = await service.request('PUT', '/admin/subscriptions/ti_2', {
      token: service.adminToken,
      body: { service_slug: 'nobody', trigger_slug: 'ok', user_id: 'u1' },
    });
    expect(unknown.status).toBe(422);
    expect((unknown.body as { errors: { name: string }[] }).errors.map((e) => e.name)).toEqual([
      'service_slug',
    ]);
    const older = await service.request('PUT', '/admin/subscriptions/ti_2', {
      token: service.adminToken,
      body: {
        service_slug: 'weather',
        api_base_url: partner.url,
        service_key: partner.serviceKey,
        trigger_slug: 'ok',
        user_id: 'u1',
      },
    });
    expect(older.status).toBe(400);
    expect(older.text).not.toContain(partner.serviceKey);
  });

  it('answers 400 naming invalid fields, and writes nothing', async () => {
    const bad = await service.request('PUT', '/admin/subscriptions/ti_2', {
      token: service.adminToken,
      body: {
        service_slug: 'Bad Slug',
        trigger_slug: 'ok',
        user_id: '',
      },
    });
    expect(bad.status).toBe(400);
    const names = (bad.body as { errors: { name: string }[] }).errors.map((error) => error.name).sort();
    expect(names).toEqual(['service_slug', 'user_id']);
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
    // The partner is to be told: a pending DELETE and its job.
    expect(
      await service.db
        .selectFrom('trigger_identity_deletions')
        .select(['trigger_identity', 'service_slug'])
        .execute(),
    ).toEqual([{ trigger_identity: 'ti_1', service_slug: 'weather' }]);
    const gone = await service.request('GET', '/admin/subscriptions/ti_1/events', {
      token: service.adminToken,
    });
    expect(gone.status).toBe(404);
    expect(
      (await service.request('DELETE', '/admin/subscriptions/ti_1', { token: service.adminToken })).status,
    ).toBe(404);
  });
});
