import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, migrationRoundTrip, type TestDatabase } from '@ittd/platform/testing';
import { appletMigrations } from '../migrations';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('applets_migrations');
});

afterAll(() => database?.drop());

describe('migrations', () => {
  it('apply in order, roll all the way down and apply again', async () => {
    const trip = await migrationRoundTrip(appletMigrations, database.url);
    expect(trip.applied).toEqual(Object.keys(appletMigrations).sort());
    expect(trip.afterUp).toEqual(['api_tokens', 'applet_activity', 'applets', 'partner_services', 'users']);
    expect(trip.afterDown).toEqual([]);
    expect(trip.afterUpAgain).toEqual(trip.afterUp);
  });
});
