import { subscribe, type Subscription } from '@ittd/platform';
import { testRedisUrl } from '@ittd/platform/testing';
import {
  appletChanged,
  partnerServiceChanged,
  partnerServiceKeyContext as eventKeyContext,
  type AppletChangedEvent,
  type PartnerServiceChangedEvent,
} from '@ittd/engine-events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerServiceKeyContext } from '../src/data/database';
import type { Applet } from '../src/domain/applet';
import { startAppletsTestService, type AppletsTestService } from './support/applets-test-service';
import { waitFor } from './support/wait-for';

let service: AppletsTestService;
let ada: { id: string; token: string };
let bob: { id: string; token: string };

/** The service key of a `partner-service.changed`, opened with the engine's event keys. */
function openEventKey(event: PartnerServiceChangedEvent): string {
  return service.eventKeys.open(event.service_key_sealed, eventKeyContext(event.slug));
}

const validApplet = {
  trigger: { service: 'weather', slug: 'rain_tomorrow', fields: { city: 'Berlin' } },
  action: { service: 'slack', slug: 'post_message', fields: { text: 'Rain in {{City}}' } },
};

beforeAll(async () => {
  service = await startAppletsTestService();
  await service.registerService('weather');
  await service.registerService('slack');
  ada = await service.createUser('ada');
  bob = await service.createUser('bob');
});

afterAll(async () => {
  await service?.stop();
});

/** The field names of a problem+json answer's `errors`. */
function errorNames(body: unknown): string[] {
  return (body as { errors: { name: string }[] }).errors.map((error) => error.name);
}

/** The applet.changed events of one applet, oldest first. */
async function eventsOf(
  appletId: string,
): Promise<{ event: AppletChangedEvent; requestId: string | null }[]> {
  return (await service.outbox(appletChanged)).filter((each) => each.event.applet_id === appletId);
}

async function createApplet(token: string, body: unknown = validApplet): Promise<Applet> {
  const created = await service.request('POST', '/v1/applets', { token, body });
  expect(created.status).toBe(201);
  return created.body as Applet;
}

describe('applet.changed', () => {
  it('is published with every change, with the full state, a growing version and the request id', async () => {
    const created = await service.request('POST', '/v1/applets', {
      token: ada.token,
      body: validApplet,
      headers: { 'x-request-id': 'req-create-1' },
    });
    expect(created.status).toBe(201);
    const applet = created.body as Applet;
    const steps: [body: unknown, change: AppletChangedEvent['change'], enabled: boolean][] = [
      [{ enabled: false }, 'disabled', false],
      [{ enabled: true }, 'enabled', true],
      [{ action: { fields: { text: 'Umbrella for {{City}}' } } }, 'saved', true],
      [{ enabled: false, trigger: { fields: { city: 'Paris' } } }, 'saved', false],
      [{ enabled: false }, 'saved', false],
    ];
    for (const [index, [body, _change, enabled]] of steps.entries()) {
      const patched = await service.request('PATCH', `/v1/applets/${applet.id}`, {
        token: ada.token,
        body,
        headers: { 'x-request-id': `req-patch-${index}` },
      });
      expect(patched.status).toBe(200);
      expect((patched.body as Applet).enabled).toBe(enabled);
    }
    const deleted = await service.request('DELETE', `/v1/applets/${applet.id}`, {
      token: ada.token,
      headers: { 'x-request-id': 'req-delete' },
    });
    expect(deleted.status).toBe(204);

    const events = await eventsOf(applet.id);
    expect(events.map((each) => each.event.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events.map((each) => each.event.change)).toEqual([
      'saved',
      ...steps.map(([, change]) => change),
      'deleted',
    ]);
    expect(events.map((each) => each.requestId)).toEqual([
      'req-create-1',
      ...steps.map((_step, index) => `req-patch-${index}`),
      'req-delete',
    ]);
    expect(events[0]?.event).toMatchObject({
      applet_id: applet.id,
      enabled: true,
      disabled_reason: null,
      user: { id: ada.id, timezone: 'UTC' },
      trigger: { ...validApplet.trigger, trigger_identity: applet.trigger.trigger_identity },
      action: validApplet.action,
    });
    const paris = events[4]?.event;
    expect(paris?.trigger.fields).toEqual({ city: 'Paris' });
    expect(paris?.trigger.trigger_identity).not.toBe(applet.trigger.trigger_identity);
    expect(paris?.action.fields).toEqual({ text: 'Umbrella for {{City}}' });
    // The deleted event carries the last state, switched off.
    expect(events[6]?.event).toMatchObject({ change: 'deleted', enabled: false, trigger: paris?.trigger });
  });

  it('is not published for a refused change, and a rolled-back change publishes nothing', async () => {
    const applet = await createApplet(ada.token);
    const before = (await service.outbox(appletChanged)).length;
    const refused = [
      await service.request('POST', '/v1/applets', {
        token: ada.token,
        body: { ...validApplet, action: { ...validApplet.action, service: 'nope' } },
      }),
      await service.request('PATCH', `/v1/applets/${applet.id}`, {
        token: bob.token,
        body: { enabled: false },
      }),
      await service.request('DELETE', `/v1/applets/${applet.id}`, { token: bob.token }),
      await service.request('PATCH', `/v1/applets/${applet.id}`, {
        token: ada.token,
        body: { enabled: 'no' },
      }),
    ];
    expect(refused.map((response) => response.status)).toEqual([422, 404, 404, 400]);
    expect((await service.outbox(appletChanged)).length).toBe(before);

    // A stored time zone the topic refuses makes publish throw after the UPDATE: the whole transaction
    // rolls back, so neither the change nor its event exists.
    await service.db
      .updateTable('users')
      .set({ timezone: 'x'.repeat(65) })
      .where('id', '=', ada.id)
      .execute();
    try {
      const failed = await service.request('PATCH', `/v1/applets/${applet.id}`, {
        token: ada.token,
        body: { enabled: false },
      });
      expect(failed.status).toBe(500);
    } finally {
      await service.db.updateTable('users').set({ timezone: 'UTC' }).where('id', '=', ada.id).execute();
    }
    const row = await service.db
      .selectFrom('applets')
      .select(['enabled', 'version'])
      .where('id', '=', applet.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ enabled: true, version: 1 });
    expect((await service.outbox(appletChanged)).length).toBe(before);
  });

  it('reaches a subscriber through the relay the service runs', async () => {
    const redis = new Redis(testRedisUrl());
    const seen: AppletChangedEvent[] = [];
    const subscription: Subscription<AppletChangedEvent> = subscribe(
      appletChanged,
      'applets-test-observer',
      async (event) => {
        seen.push(event);
      },
      { redis, prefix: service.eventsPrefix, startFrom: 'latest' },
    );
    await subscription.start();
    try {
      const applet = await createApplet(ada.token);
      await waitFor('the applet.changed event', () => seen.some((event) => event.applet_id === applet.id));
      expect(seen.find((event) => event.applet_id === applet.id)).toMatchObject({
        change: 'saved',
        version: 1,
      });
    } finally {
      await subscription.stop();
      redis.disconnect();
    }
  });
});

describe('user time zones', () => {
  it('are set when the admin creates the user, canonical, default UTC', async () => {
    const created = await service.request('POST', '/admin/users', {
      token: service.adminToken,
      body: { name: 'carol', timezone: 'europe/berlin' },
    });
    expect(created.status).toBe(201);
    expect((created.body as { user: { timezone: string } }).user.timezone).toBe('Europe/Berlin');
    const token = (created.body as { token: string }).token;
    const applet = await createApplet(token);
    expect((await eventsOf(applet.id))[0]?.event.user.timezone).toBe('Europe/Berlin');

    const plain = await service.request('POST', '/admin/users', {
      token: service.adminToken,
      body: { name: 'dan' },
    });
    expect((plain.body as { user: { timezone: string } }).user.timezone).toBe('UTC');
  });

  it('re-publishes every applet of the user when the zone changes, and nothing when it does not', async () => {
    const erin = await service.createUser('erin');
    const first = await createApplet(erin.token);
    const second = await createApplet(erin.token, {
      ...validApplet,
      trigger: { ...validApplet.trigger, fields: { city: 'Oslo' } },
    });
    const other = await createApplet(bob.token);
    const changed = await service.request('PATCH', `/admin/users/${erin.id}`, {
      token: service.adminToken,
      body: { timezone: 'Asia/Tokyo' },
      headers: { 'x-request-id': 'req-tz' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: erin.id, name: 'erin', timezone: 'Asia/Tokyo' });
    for (const applet of [first, second]) {
      const events = await eventsOf(applet.id);
      expect(events.map((each) => each.event.version)).toEqual([1, 2]);
      expect(events[1]).toMatchObject({
        requestId: 'req-tz',
        event: { change: 'saved', user: { id: erin.id, timezone: 'Asia/Tokyo' } },
      });
    }
    expect((await eventsOf(other.id)).length).toBe(1);

    const same = await service.request('PATCH', `/admin/users/${erin.id}`, {
      token: service.adminToken,
      body: { timezone: 'Asia/Tokyo' },
    });
    expect(same.status).toBe(200);
    expect((await eventsOf(first.id)).length).toBe(2);

    // Later changes of an applet carry the new zone.
    await service.request('PATCH', `/v1/applets/${first.id}`, {
      token: erin.token,
      body: { enabled: false },
    });
    expect((await eventsOf(first.id)).at(-1)?.event).toMatchObject({
      version: 3,
      user: { timezone: 'Asia/Tokyo' },
    });
  });

  it('refuses a bad zone or body naming the field, and answers 404 for an unknown user', async () => {
    const before = (await service.outbox(appletChanged)).length;
    for (const [body, field] of [
      [{ timezone: 'Mars/Base' }, 'timezone'],
      [{ timezone: '+01:00' }, 'timezone'],
      [{ timezone: 42 }, 'timezone'],
      [{ timezone: 'UTC\u0000' }, 'timezone'],
      [{}, 'timezone'],
      [{ timezone: 'UTC', name: 'x' }, 'name'],
    ] as const) {
      const response = await service.request('PATCH', `/admin/users/${ada.id}`, {
        token: service.adminToken,
        body,
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(errorNames(response.body)).toEqual([field]);
    }
    const badCreate = await service.request('POST', '/admin/users', {
      token: service.adminToken,
      body: { name: 'frank', timezone: 'Nowhere/Land' },
    });
    expect(badCreate.status).toBe(400);
    expect(errorNames(badCreate.body)).toEqual(['timezone']);
    expect(await service.db.selectFrom('users').select('id').where('name', '=', 'frank').execute()).toEqual(
      [],
    );
    for (const id of ['999999', 'abc', '%00']) {
      const response = await service.request('PATCH', `/admin/users/${id}`, {
        token: service.adminToken,
        body: { timezone: 'UTC' },
      });
      expect(response.status).toBe(404);
    }
    const asUser = await service.request('PATCH', `/admin/users/${ada.id}`, {
      token: ada.token,
      body: { timezone: 'UTC' },
    });
    expect(asUser.status).toBe(401);
    expect((await service.outbox(appletChanged)).length).toBe(before);
  });
});

describe('partner-service.changed', () => {
  const key = 'sk_news_0123456789abcdef';
  const rotated = 'sk_news_rotated_0123456789';

  it('is published on register and on every change, with the key; answers never hold the key', async () => {
    const registered = await service.request('POST', '/admin/services', {
      token: service.adminToken,
      body: { slug: 'news', name: 'News', api_base_url: 'https://news.example.com', service_key: key },
      headers: { 'x-request-id': 'req-register' },
    });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ slug: 'news', version: 1 });
    expect(registered.text).not.toContain(key);

    const changed = await service.request('PATCH', '/admin/services/news', {
      token: service.adminToken,
      body: { service_key: rotated, api_base_url: 'https://api.news.example.com/v2' },
      headers: { 'x-request-id': 'req-rotate' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      slug: 'news',
      name: 'News',
      api_base_url: 'https://api.news.example.com/v2',
      version: 2,
    });
    expect(changed.text).not.toContain(rotated);
    expect(changed.body).not.toHaveProperty('service_key');

    const renamed = await service.request('PATCH', '/admin/services/news', {
      token: service.adminToken,
      body: { name: 'The News' },
    });
    expect(renamed.status).toBe(200);

    const events = (await service.outbox(partnerServiceChanged)).filter((each) => each.event.slug === 'news');
    // The outbox holds the key sealed under the engine's event keys, never in clear.
    expect(JSON.stringify(events)).not.toContain('sk_news');
    expect(events.map((each) => ({ ...each.event, service_key: openEventKey(each.event) }))).toEqual([
      expect.objectContaining({
        version: 1,
        name: 'News',
        api_base_url: 'https://news.example.com',
        service_key: key,
      }),
      expect.objectContaining<Partial<PartnerServiceChangedEvent & { service_key: string }>>({
        version: 2,
        name: 'News',
        api_base_url: 'https://api.news.example.com/v2',
        service_key: rotated,
      }),
      expect.objectContaining({ version: 3, name: 'The News', service_key: rotated }),
    ]);
    expect(events.map((each) => each.requestId).slice(0, 2)).toEqual(['req-register', 'req-rotate']);
    const stored = await service.db
      .selectFrom('partner_services')
      .select(['service_key_sealed', 'version'])
      .where('slug', '=', 'news')
      .executeTakeFirstOrThrow();
    expect(stored.version).toBe(3);
    expect(service.keyring.open(stored.service_key_sealed, partnerServiceKeyContext('news'))).toBe(rotated);

    const listed = await service.request('GET', '/v1/services', { token: ada.token });
    expect(listed.text).not.toContain(rotated);
  });

  it('refuses bad changes naming the field, 404 for an unknown service, and publishes nothing then', async () => {
    const before = (await service.outbox(partnerServiceChanged)).length;
    for (const [body, fields] of [
      [{ api_base_url: 'ftp://news.example.com' }, ['api_base_url']],
      [{ api_base_url: `https://news.example.com/${'a'.repeat(2000)}` }, ['api_base_url']],
      [{ service_key: 'short' }, ['service_key']],
      [{ service_key: 'k'.repeat(501) }, ['service_key']],
      [{ name: '' }, ['name']],
      [{ slug: 'other' }, ['slug', '(body)']],
      [{}, ['(body)']],
    ] as const) {
      const response = await service.request('PATCH', '/admin/services/weather', {
        token: service.adminToken,
        body,
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(errorNames(response.body)).toEqual(fields);
    }
    const duplicate = await service.request('POST', '/admin/services', {
      token: service.adminToken,
      body: { slug: 'weather', name: 'W', api_base_url: 'https://w.example.com', service_key: key },
    });
    expect(duplicate.status).toBe(409);
    for (const slug of ['nothing_here', 'Not-A-Slug', '%00']) {
      const response = await service.request('PATCH', `/admin/services/${slug}`, {
        token: service.adminToken,
        body: { name: 'X' },
      });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await service.outbox(partnerServiceChanged)).length).toBe(before);
  });
});

describe('service keys', () => {
  it('are never logged, not even at debug level', async () => {
    const lines: string[] = [];
    const verbose = await startAppletsTestService({ LOG_LEVEL: 'debug' }, { logLines: lines });
    try {
      const key = 'sk_secret_logged_never_0123456789';
      const rotated = 'sk_secret_rotated_never_0123456789';
      const body = { slug: 'mail', name: 'Mail', api_base_url: 'https://mail.example.com', service_key: key };
      expect(
        (await verbose.request('POST', '/admin/services', { token: verbose.adminToken, body })).status,
      ).toBe(201);
      expect(
        (await verbose.request('POST', '/admin/services', { token: verbose.adminToken, body })).status,
      ).toBe(409);
      const patched = await verbose.request('PATCH', '/admin/services/mail', {
        token: verbose.adminToken,
        body: { service_key: rotated },
      });
      expect(patched.status).toBe(200);
      const refused = await verbose.request('PATCH', '/admin/services/mail', {
        token: verbose.adminToken,
        body: { service_key: rotated, extra: rotated },
      });
      expect(refused.status).toBe(400);
      const sealed = (await verbose.outbox(partnerServiceChanged)).map((each) => each.event);
      expect(
        sealed.map((event) => verbose.eventKeys.open(event.service_key_sealed, eventKeyContext(event.slug))),
      ).toEqual([key, rotated]);
      expect(lines.some((line) => line.includes('/admin/services'))).toBe(true);
      expect(lines.filter((line) => line.includes(key) || line.includes(rotated))).toEqual([]);
    } finally {
      await verbose.stop();
    }
  });
});
