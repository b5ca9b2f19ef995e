import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { generateKeyringEntry, SecretKeyring, sealedKeyId, startService } from '@ittd/platform';
import { spawnTsx } from '@ittd/platform/testing';
import { partnerServiceChanged, partnerServiceKeyContext as eventKeyContext } from '@ittd/engine-events';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appletsService } from '../src/applets-service';
import { partnerServiceKeyContext } from '../src/data/database';
import { startAppletsTestService, type AppletsTestService } from './support/applets-test-service';

const run = promisify(execFile);
const oldKey = generateKeyringEntry('2026-05');
const newKey = generateKeyringEntry('2026-11');
const partnerKeys = ['sk_alpha_0123456789abcdef', 'sk_beta_0123456789abcdef', 'sk_gamma_0123456789abcdef'];
const slugs = ['alpha', 'beta', 'gamma'];

let service: AppletsTestService;

beforeAll(async () => {
  service = await startAppletsTestService({ SECRETS_KEYS: oldKey, PREAUTH_RATE_LIMIT_PER_MINUTE: '50' });
  for (const [index, slug] of slugs.entries()) {
    const registered = await service.request('POST', '/admin/services', {
      token: service.adminToken,
      body: {
        slug,
        name: slug,
        api_base_url: `https://${slug}.example.com`,
        service_key: partnerKeys[index],
      },
    });
    expect(registered.status).toBe(201);
  }
});

afterAll(async () => {
  await service?.stop();
});

/** Every stored key, opened with `keyring`, by slug. */
async function storedKeys(keyring: SecretKeyring): Promise<Record<string, string>> {
  const rows = await service.db
    .selectFrom('partner_services')
    .select(['slug', 'service_key_sealed'])
    .execute();
  return Object.fromEntries(
    rows.map((row) => [row.slug, keyring.open(row.service_key_sealed, partnerServiceKeyContext(row.slug))]),
  );
}

describe('partner service keys at rest', () => {
  it('a pg_dump of the partner table and the outbox holds no key in clear', async () => {
    const { stdout } = await run('pg_dump', [
      '--data-only',
      '--table=partner_services',
      '--table=platform_event_outbox',
      service.databaseUrl,
    ]);
    expect(stdout).toContain('alpha');
    for (const key of partnerKeys) expect(stdout).not.toContain(key);
    // What is there opens to the keys: the service's keys for the table, the engine's for the events.
    expect(await storedKeys(SecretKeyring.fromSetting(oldKey))).toEqual({
      alpha: partnerKeys[0],
      beta: partnerKeys[1],
      gamma: partnerKeys[2],
    });
    const events = await service.outbox(partnerServiceChanged);
    expect(
      events.map(({ event }) =>
        service.eventKeys.open(event.service_key_sealed, eventKeyContext(event.slug)),
      ),
    ).toEqual(partnerKeys);
  });

  it('rotate-secrets seals every row under the new key while the old one still opens', async () => {
    // Step 1 of a rotation: the new key first, the old still listed. An instance with it opens the old rows.
    const rotating = await startService(appletsService, {
      env: { ...service.env, SECRETS_KEYS: `${newKey},${oldKey}` },
      port: 0,
      host: '127.0.0.1',
    });
    try {
      const renamed = await fetch(`${rotating.url}/admin/services/alpha`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${service.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Alpha' }),
      });
      expect(renamed.status).toBe(200);
      const [, , , latest] = await service.outbox(partnerServiceChanged);
      expect(service.eventKeys.open(latest.event.service_key_sealed, eventKeyContext('alpha'))).toBe(
        partnerKeys[0],
      );

      // Step 2: the command re-seals every row (through the real CLI).
      const proc = spawnTsx('src/main.ts', ['run-job', 'rotate-secrets'], {
        ...service.env,
        SECRETS_KEYS: `${newKey},${oldKey}`,
        LOG_LEVEL: 'info',
      });
      expect(await proc.exited(30_000)).toBe(0);
      expect(proc.stdout()).toContain('"resealed":3');
      for (const key of partnerKeys) expect(proc.stdout() + proc.stderr()).not.toContain(key);

      const rows = await service.db.selectFrom('partner_services').select(['service_key_sealed']).execute();
      expect(rows.map((row) => sealedKeyId(row.service_key_sealed))).toEqual([
        '2026-11',
        '2026-11',
        '2026-11',
      ]);
      // Both keyrings of the change open them; once re-sealed, the new key alone does (step 3: drop the old).
      expect(await storedKeys(SecretKeyring.fromSetting(`${newKey},${oldKey}`))).toEqual(
        await storedKeys(SecretKeyring.fromSetting(newKey)),
      );
      expect(Object.values(await storedKeys(SecretKeyring.fromSetting(newKey)))).toEqual(
        expect.arrayContaining(partnerKeys),
      );
      // The running instance (both keys) still serves changes after the rotation.
      const again = await fetch(`${rotating.url}/admin/services/beta`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${service.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Beta' }),
      });
      expect(again.status).toBe(200);
    } finally {
      await rotating.stop();
    }
  });

  it('refuses a partner at http://10.0.0.1 or a private https address outside local (nothing is sent)', async () => {
    for (const url of [
      'http://10.0.0.1',
      'https://10.0.0.1',
      'https://127.0.0.1:8443',
      'https://169.254.169.254',
    ]) {
      const refused = await service.request('POST', '/admin/services', {
        token: service.adminToken,
        body: {
          slug: 'intranet',
          name: 'Intranet',
          api_base_url: url,
          service_key: 'sk_intranet_0123456789',
        },
      });
      expect(refused.status, url).toBe(422);
      expect(refused.body).toMatchObject({ errors: [{ name: 'api_base_url' }] });
      const patched = await service.request('PATCH', '/admin/services/alpha', {
        token: service.adminToken,
        body: { api_base_url: url },
      });
      expect(patched.status, url).toBe(422);
    }
    expect(await service.countRows('partner_services')).toBe(3);
  });
});

describe('API tokens', () => {
  it('a user lists, creates and revokes tokens; a revoked or expired token gets 401 at once', async () => {
    const ada = await service.createUser('ada');
    const created = await service.request('POST', '/v1/tokens', {
      token: ada.token,
      body: { name: 'ci', expires_at: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(created.status).toBe(201);
    const ci = created.body as { id: string; token: string; name: string; expires_at: string };
    expect(ci).toMatchObject({ name: 'ci', last_used_at: null });
    expect(created.headers.get('location')).toBe(`/v1/tokens/${ci.id}`);
    expect((await service.request('GET', '/v1/applets', { token: ci.token })).status).toBe(200);

    const listed = await service.request('GET', '/v1/tokens', { token: ada.token });
    expect(listed.status).toBe(200);
    const data = (listed.body as { data: Array<Record<string, unknown>> }).data;
    expect(data.map((token) => token.name)).toEqual(['ci', 'default']);
    expect(Object.keys(data[0]).sort()).toEqual(['created_at', 'expires_at', 'id', 'last_used_at', 'name']);
    expect(data[0].last_used_at).not.toBeNull();
    expect(listed.text).not.toContain(ci.token);
    expect(listed.text).not.toContain(ada.token);

    // Revoked: 401 on the very next request.
    expect((await service.request('DELETE', `/v1/tokens/${ci.id}`, { token: ada.token })).status).toBe(204);
    expect((await service.request('GET', '/v1/applets', { token: ci.token })).status).toBe(401);
    expect((await service.request('DELETE', `/v1/tokens/${ci.id}`, { token: ada.token })).status).toBe(404);

    // Expired: time passes (the expiry is moved into the past), and the next request is refused.
    const short = await service.request('POST', '/v1/tokens', {
      token: ada.token,
      body: { name: 'short', expires_at: new Date(Date.now() + 3_600_000).toISOString() },
    });
    const shortToken = short.body as { id: string; token: string };
    expect((await service.request('GET', '/v1/applets', { token: shortToken.token })).status).toBe(200);
    await sql`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = ${shortToken.id}`.execute(
      service.db,
    );
    const expired = await service.request('GET', '/v1/applets', { token: shortToken.token });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('invalid_token');

    // An expiry in the past or malformed is a 400 naming it.
    for (const expires_at of ['2020-01-01T00:00:00Z', 'tomorrow']) {
      const bad = await service.request('POST', '/v1/tokens', { token: ada.token, body: { expires_at } });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ errors: [{ name: 'expires_at' }] });
    }
  });

  it("another user's token cannot be revoked; the admin revokes all of a user's tokens", async () => {
    const bob = await service.createUser('bob');
    const eve = await service.createUser('eve');
    const bobs = await service.request('GET', '/v1/tokens', { token: bob.token });
    const bobTokenId = (bobs.body as { data: Array<{ id: string }> }).data[0].id;
    expect((await service.request('DELETE', `/v1/tokens/${bobTokenId}`, { token: eve.token })).status).toBe(
      404,
    );

    const second = await service.request('POST', `/admin/users/${bob.id}/tokens`, {
      token: service.adminToken,
      body: { name: 'laptop' },
    });
    expect(second.status).toBe(201);
    const laptop = (second.body as { token: string }).token;
    const revoked = await service.request('DELETE', `/admin/users/${bob.id}/tokens`, {
      token: service.adminToken,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ revoked: 2 });
    expect((await service.request('GET', '/v1/applets', { token: bob.token })).status).toBe(401);
    expect((await service.request('GET', '/v1/applets', { token: laptop })).status).toBe(401);
    expect((await service.request('GET', '/v1/applets', { token: eve.token })).status).toBe(200);
    expect(
      (await service.request('DELETE', '/admin/users/999999/tokens', { token: service.adminToken })).status,
    ).toBe(404);
  });
});

describe('requests without a valid token', () => {
  it('1,000 bad tokens cost at most the limit of token lookups (checked in Redis first)', async () => {
    const lookups = async (): Promise<number> => {
      const metric = await service.metrics.getSingleMetric('db_queries_total')?.get();
      return metric?.values.find((value) => value.labels.table === 'api_tokens')?.value ?? 0;
    };
    // A fresh budget in a fresh window: earlier tests' bad tokens counted, and a window edge would halve it.
    const counters = await service.redis.keys(`${service.redisKeyPrefix}preauth:*`);
    if (counters.length > 0) await service.redis.del(...counters);
    const msIntoMinute = Date.now() % 60_000;
    if (msIntoMinute > 45_000)
      await new Promise((resolve) => setTimeout(resolve, 60_000 - msIntoMinute + 50));
    const before = await lookups();
    const statuses: number[] = [];
    for (let batch = 0; batch < 50; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          fetch(`${service.url}/v1/applets`, {
            headers: { authorization: `Bearer ittd_bad_${batch}_${i}` },
            signal: AbortSignal.timeout(10_000),
          }).then(async (response) => {
            await response.arrayBuffer();
            return response.status;
          }),
        ),
      );
      statuses.push(...answers);
    }
    expect(statuses).toHaveLength(1000);
    expect(statuses.filter((status) => status === 401)).toHaveLength(50);
    expect(statuses.filter((status) => status === 429)).toHaveLength(950);
    expect((await lookups()) - before).toBe(50);
  });
});

describe('a key stored before sealing (upgrade, before rotate-secrets)', () => {
  it('a change that must republish it is a 409 saying what helps; a new key fixes it', async () => {
    await sql`INSERT INTO partner_services (slug, name, api_base_url, service_key_sealed)
      VALUES ('legacy', 'Legacy', 'https://legacy.example.com', 'sk_legacy_in_clear_0123456789')`.execute(
      service.db,
    );
    // Readiness warns (never fails) while a key is in clear, naming the column and the fix, not the key.
    const unsealed = async () => {
      const ready = await service.request('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.text).not.toContain('sk_legacy');
      return (ready.body as { checks: Record<string, Array<Record<string, unknown>>> }).checks[
        'secrets:unsealed'
      ]?.[0];
    };
    expect(await unsealed()).toMatchObject({ status: 'warn', observedValue: 1 });
    expect(String((await unsealed())?.output)).toMatch(
      /partner_services\.service_key_sealed.*rotate-secrets/,
    );
    const renamed = await service.request('PATCH', '/admin/services/legacy', {
      token: service.adminToken,
      body: { name: 'Legacy 2' },
    });
    expect(renamed.status).toBe(409);
    expect(renamed.text).toContain('rotate-secrets');
    expect(renamed.text).not.toContain('sk_legacy');
    const rekeyed = await service.request('PATCH', '/admin/services/legacy', {
      token: service.adminToken,
      body: { name: 'Legacy 2', service_key: 'sk_legacy_new_0123456789' },
    });
    expect(rekeyed.status).toBe(200);
    expect(await unsealed()).toMatchObject({ status: 'pass', observedValue: 0 });
  });
});

describe('/metrics', () => {
  it('is not served on the API port (it has its own listener, METRICS_PORT)', async () => {
    const answer = await service.request('GET', '/metrics');
    expect(answer.status).toBe(404);
    expect(answer.text).not.toContain('http_requests_total');
  });
});
