import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerServiceKeyContext } from '../src/data/database';
import { hashApiToken } from '../src/domain/api-token';
import { startAppletsTestService, type AppletsTestService } from './support/applets-test-service';

let service: AppletsTestService;

beforeAll(async () => {
  service = await startAppletsTestService();
});

afterAll(async () => {
  await service?.stop();
});

describe('admin authentication', () => {
  it('answers 401 with a Bearer challenge without or with a wrong admin token', async () => {
    const missing = await service.request('POST', '/admin/users', { body: { name: 'x' } });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    const wrong = await service.request('POST', '/admin/users', {
      token: 'not-the-admin-token',
      body: { name: 'x' },
    });
    expect(wrong.status).toBe(401);
    const rows = await service.db.selectFrom('users').select('id').execute();
    expect(rows).toEqual([]);
  });
});

describe('partner services', () => {
  const weather = {
    slug: 'weather',
    name: 'Weather',
    api_base_url: 'https://weather.example.com/api',
    service_key: 'sk_weather_0123456789abcdef',
  };

  it('registers a service, stores its key and never returns it', async () => {
    const created = await service.request('POST', '/admin/services', {
      token: service.adminToken,
      body: weather,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      slug: 'weather',
      name: 'Weather',
      api_base_url: weather.api_base_url,
    });
    expect(created.text).not.toContain(weather.service_key);
    expect(created.body).not.toHaveProperty('service_key');

    const stored = await service.db
      .selectFrom('partner_services')
      .select('service_key_sealed')
      .where('slug', '=', 'weather')
      .executeTakeFirstOrThrow();
    // Stored sealed (AES-256-GCM under SECRETS_KEYS), never in clear.
    expect(stored.service_key_sealed).not.toContain(weather.service_key);
    expect(service.keyring.open(stored.service_key_sealed, partnerServiceKeyContext('weather'))).toBe(
      weather.service_key,
    );

    const user = await service.createUser('lister');
    const listed = await service.request('GET', '/v1/services', { token: user.token });
    expect(listed.status).toBe(200);
    expect((listed.body as { data: { slug: string }[] }).data.map((s) => s.slug)).toEqual(['weather']);
    expect(listed.text).not.toContain(weather.service_key);
  });

  it('answers 409 for a taken slug and keeps the first key', async () => {
    const again = await service.request('POST', '/admin/services', {
      token: service.adminToken,
      body: { ...weather, service_key: 'sk_other_0123456789abcdef' },
    });
    expect(again.status).toBe(409);
    expect(again.text).not.toContain('sk_other');
    const stored = await service.db.selectFrom('partner_services').select('service_key_sealed').execute();
    expect(
      stored.map((row) => service.keyring.open(row.service_key_sealed, partnerServiceKeyContext('weather'))),
    ).toEqual([weather.service_key]);
  });

  it('answers 400 naming invalid fields, does not echo the key, and writes nothing', async () => {
    const bad = await service.request('POST', '/admin/services', {
      token: service.adminToken,
      body: { slug: 'Bad Slug', name: '', api_base_url: 'ftp://x', service_key: 'short-secret' },
    });
    expect(bad.status).toBe(400);
    const names = (bad.body as { errors: { name: string }[] }).errors.map((e) => e.name).sort();
    expect(names).toEqual(['api_base_url', 'name', 'service_key', 'slug']);
    expect(bad.text).not.toContain('short-secret');
    const count = await service.db.selectFrom('partner_services').select('slug').execute();
    expect(count).toHaveLength(1);
  });
});

describe('users and tokens', () => {
  it('creates a user whose token works, stores only its sha256, and issues more tokens', async () => {
    const created = await service.request('POST', '/admin/users', {
      token: service.adminToken,
      body: { name: 'grace' },
    });
    expect(created.status).toBe(201);
    const { user, token } = created.body as { user: { id: string; name: string }; token: string };
    expect(user.name).toBe('grace');
    expect(token).toMatch(/^ittd_[A-Za-z0-9_-]{43}$/);

    const stored = await service.db
      .selectFrom('api_tokens')
      .select('token_sha256')
      .where('user_id', '=', user.id)
      .execute();
    expect(stored).toEqual([{ token_sha256: hashApiToken(token) }]);

    expect((await service.request('GET', '/v1/applets', { token })).status).toBe(200);

    const second = await service.request('POST', `/admin/users/${user.id}/tokens`, {
      token: service.adminToken,
    });
    expect(second.status).toBe(201);
    const secondToken = (second.body as { token: string }).token;
    expect(secondToken).not.toBe(token);
    expect((await service.request('GET', '/v1/applets', { token: secondToken })).status).toBe(200);
    expect((await service.request('GET', '/v1/applets', { token })).status).toBe(200);
  });

  it('answers 409 for a taken name and 404 for tokens of an unknown user', async () => {
    const duplicate = await service.request('POST', '/admin/users', {
      token: service.adminToken,
      body: { name: 'grace' },
    });
    expect(duplicate.status).toBe(409);
    const unknown = await service.request('POST', '/admin/users/987654/tokens', {
      token: service.adminToken,
    });
    expect(unknown.status).toBe(404);
    const garbage = await service.request('POST', '/admin/users/abc/tokens', { token: service.adminToken });
    expect(garbage.status).toBe(404);
  });
});
