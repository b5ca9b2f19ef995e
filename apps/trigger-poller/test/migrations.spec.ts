import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, migrationRoundTrip, type TestDatabase } from '@ittd/platform/testing';
import { triggerPollerMigrations } from '../migrations';
import { hashServiceKey } from '../src/data/service-key-hash';

let database: TestDatabase;
let dataDatabase: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('trigger_poller_migrations');
  dataDatabase = await createTestDatabase('trigger_poller_migrations_data');
});

afterAll(async () => {
  await database?.drop();
  await dataDatabase?.drop();
});

describe('migrations', () => {
  it('apply in order, roll all the way down and apply again', async () => {
    const trip = await migrationRoundTrip(triggerPollerMigrations, database.url);
    expect(trip.applied).toEqual(Object.keys(triggerPollerMigrations).sort());
    expect(trip.afterUp).toEqual([
      'applet_triggers',
      'partners',
      'trigger_events',
      'trigger_identity_deletions',
      'trigger_subscriptions',
    ]);
    expect(trip.afterDown).toEqual([]);
    expect(trip.afterUpAgain).toEqual(trip.afterUp);
  });

  it('0003 moves the keys of existing subscriptions into partners (newest per slug) and back down', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema changes across the migrations
    const db = new Kysely<any>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: dataDatabase.url, max: 2 }) }),
    });
    try {
      const migrator = new Migrator({ db, provider: { getMigrations: async () => triggerPollerMigrations } });
      expect((await migrator.migrateTo('0002-create-trigger-events')).error).toBeUndefined();
      const row = (id: string, slug: string, key: string, updated: string, polled: string | null) => ({
        trigger_identity: id,
        service_slug: slug,
        api_base_url: `https://${slug}.example/${key}`,
        service_key: key,
        service_key_sha256: hashServiceKey(key),
        trigger_slug: 'rain',
        trigger_fields: JSON.stringify({ city: 'Berlin' }),
        user_id: 'u1',
        updated_at: updated,
        last_polled_at: polled,
      });
      await db
        .insertInto('trigger_subscriptions')
        .values([
          row('ti_1', 'weather', 'sk_weather_old_0123456789', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
          row('ti_2', 'weather', 'sk_weather_new_0123456789', '2026-02-01T00:00:00Z', null),
          row('ti_3', 'mail', 'sk_mail_0123456789abcdef', '2026-01-01T00:00:00Z', null),
        ])
        .execute();

      // Up to 0004: 0005 renames service_key to service_key_sealed (rotate-secrets seals what is there).
      expect((await migrator.migrateTo('0004-create-applet-triggers')).error).toBeUndefined();
      const partners = await db
        .selectFrom('partners')
        .select(['slug', 'name', 'api_base_url', 'service_key', 'service_key_sha256', 'version'])
        .orderBy('slug')
        .execute();
      expect(partners).toEqual([
        {
          slug: 'mail',
          name: 'mail',
          api_base_url: 'https://mail.example/sk_mail_0123456789abcdef',
          service_key: 'sk_mail_0123456789abcdef',
          service_key_sha256: hashServiceKey('sk_mail_0123456789abcdef'),
          version: 0,
        },
        {
          slug: 'weather',
          name: 'weather',
          api_base_url: 'https://weather.example/sk_weather_new_0123456789',
          service_key: 'sk_weather_new_0123456789',
          service_key_sha256: hashServiceKey('sk_weather_new_0123456789'),
          version: 0,
        },
      ]);
      const subscriptions = await db
        .selectFrom('trigger_subscriptions')
        .selectAll()
        .orderBy('trigger_identity')
        .execute();
      expect(
        subscriptions.map((s) => [s.trigger_identity, s.managed_by, s.baselined_at?.toISOString() ?? null]),
      ).toEqual([
        ['ti_1', 'operator', '2026-01-02T00:00:00.000Z'],
        ['ti_2', 'operator', null],
        ['ti_3', 'operator', null],
      ]);
      expect(Object.keys(subscriptions[0])).not.toContain('service_key');

      expect((await migrator.migrateTo('0002-create-trigger-events')).error).toBeUndefined();
      const restored = await sql<{ trigger_identity: string; service_key: string }>`
        select trigger_identity, service_key from trigger_subscriptions order by trigger_identity`.execute(
        db,
      );
      expect(restored.rows).toEqual([
        { trigger_identity: 'ti_1', service_key: 'sk_weather_new_0123456789' },
        { trigger_identity: 'ti_2', service_key: 'sk_weather_new_0123456789' },
        { trigger_identity: 'ti_3', service_key: 'sk_mail_0123456789abcdef' },
      ]);
    } finally {
      await db.destroy();
    }
  });
});
