import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, runMigrations, type Database } from '@ittd/platform';
import { createTestDatabase, type TestDatabase } from '@ittd/platform/testing';
import { appletMigrations } from '../migrations';
import {
  deleteAppletForUser,
  findAppletForUser,
  insertApplet,
  listAppletsForUser,
  updateAppletForUser,
  type NewAppletRow,
} from '../src/data/applet-repository';
import type { DB } from '../src/data/database';
import {
  findExistingPartnerServiceSlugs,
  insertPartnerService,
  listPartnerServices,
} from '../src/data/partner-service-repository';
import { insertUser } from '../src/data/user-repository';

let testDatabase: TestDatabase;
let database: Database<DB>;
let ada: string;
let bob: string;

async function createUser(name: string): Promise<string> {
  const user = await insertUser(database.db, name);
  if (user === undefined) throw new Error(`user ${name} exists`);
  return user.id;
}

function appletFor(userId: string, city: string): NewAppletRow {
  return {
    user_id: userId,
    trigger_service_slug: 'weather',
    trigger_slug: 'rain_tomorrow',
    trigger_fields: { city, where: { lat: 52.52, lng: 13.405, radius: 250 } },
    trigger_identity: `identity-${userId}-${city}`,
    action_service_slug: 'weather',
    action_slug: 'notify',
    action_fields: { text: 'Rain in {{City}}' },
    enabled: true,
  };
}

beforeAll(async () => {
  testDatabase = await createTestDatabase('applets_data');
  database = createDatabase<DB>({ DATABASE_URL: testDatabase.url, DATABASE_POOL_MAX: 2 });
  await runMigrations(database.db, { service: 'applets', migrations: appletMigrations });
  await insertPartnerService(database.db, {
    slug: 'weather',
    name: 'Weather',
    api_base_url: 'https://weather.example.com',
    service_key_sealed: 'v1:k:AAAAAAAAAAAAAAAA::AAAAAAAAAAAAAAAAAAAAAA',
  });
  ada = await createUser('ada');
  bob = await createUser('bob');
});

afterAll(async () => {
  await database?.db.destroy();
  await testDatabase?.drop();
});

describe('partner service repository', () => {
  it('never selects the service key, and reports a taken slug as undefined', async () => {
    const [listed] = await listPartnerServices(database.db);
    expect(Object.keys(listed).sort()).toEqual([
      'api_base_url',
      'created_at',
      'name',
      'slug',
      'updated_at',
      'version',
    ]);
    const again = await insertPartnerService(database.db, {
      slug: 'weather',
      name: 'Other',
      api_base_url: 'https://other.example.com',
      service_key_sealed: 'v1:k:BBBBBBBBBBBBBBBB::AAAAAAAAAAAAAAAAAAAAAA',
    });
    expect(again).toBeUndefined();
    expect(await findExistingPartnerServiceSlugs(database.db, ['weather', 'slack'])).toEqual(
      new Set(['weather']),
    );
    expect(await findExistingPartnerServiceSlugs(database.db, [])).toEqual(new Set());
  });
});

describe('applet repository', () => {
  it('round-trips jsonb fields, Locations included', async () => {
    const row = await insertApplet(database.db, appletFor(ada, 'Berlin'));
    const found = await findAppletForUser(database.db, ada, row.id);
    expect(found?.trigger_fields).toEqual({
      city: 'Berlin',
      where: { lat: 52.52, lng: 13.405, radius: 250 },
    });
    expect(found?.action_fields).toEqual({ text: 'Rain in {{City}}' });
    expect(found?.enabled).toBe(true);
  });

  it('scopes every read and write to the owner', async () => {
    const row = await insertApplet(database.db, appletFor(ada, 'Oslo'));
    expect(await findAppletForUser(database.db, bob, row.id)).toBeUndefined();
    expect(await updateAppletForUser(database.db, bob, row.id, { enabled: false })).toBeUndefined();
    expect(await deleteAppletForUser(database.db, bob, row.id)).toBeUndefined();
    expect((await findAppletForUser(database.db, ada, row.id))?.enabled).toBe(true);
    expect(await deleteAppletForUser(database.db, ada, row.id)).toMatchObject({ id: row.id, version: 1 });
  });

  it('updates trigger fields together with their identity', async () => {
    const row = await insertApplet(database.db, appletFor(ada, 'Rome'));
    const updated = await updateAppletForUser(database.db, ada, row.id, {
      trigger_fields: { city: 'Milan' },
      trigger_identity: 'identity-milan',
    });
    expect(updated).toMatchObject({ trigger_fields: { city: 'Milan' }, trigger_identity: 'identity-milan' });
    expect(updated?.action_fields).toEqual(row.action_fields);
    expect(updated?.version).toBe(row.version + 1);
  });

  it('pages by keyset on id, newest first, exclusive of beforeId', async () => {
    const carol = await createUser('carol');
    const ids: string[] = [];
    for (const city of ['a', 'b', 'c', 'd'])
      ids.push((await insertApplet(database.db, appletFor(carol, city))).id);
    const first = await listAppletsForUser(database.db, carol, { limit: 3 });
    expect(first.map((row) => row.id)).toEqual([ids[3], ids[2], ids[1]]);
    const rest = await listAppletsForUser(database.db, carol, { beforeId: ids[1], limit: 3 });
    expect(rest.map((row) => row.id)).toEqual([ids[0]]);
  });
});
