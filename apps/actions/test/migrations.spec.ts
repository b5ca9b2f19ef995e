import { createTestDatabase, migrationRoundTrip, type TestDatabase } from '@ittd/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionsMigrations } from '../migrations';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('actions_migrations');
});

afterAll(() => database?.drop());

describe('migrations', () => {
  it('apply in order, roll all the way down and apply again', async () => {
    const trip = await migrationRoundTrip(actionsMigrations, database.url);
    expect(trip.applied).toEqual(Object.keys(actionsMigrations).sort());
    expect(trip.afterUp).toEqual(['action_runs', 'applets', 'partner_services']);
    expect(trip.afterDown).toEqual([]);
    expect(trip.afterUpAgain).toEqual(trip.afterUp);
  });
});
