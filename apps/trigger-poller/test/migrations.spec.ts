import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, migrationRoundTrip, type TestDatabase } from '@ittd/platform/testing';
import { triggerPollerMigrations } from '../migrations';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('trigger_poller_migrations');
});

afterAll(() => database?.drop());

describe('migrations', () => {
  it('apply in order, roll all the way down and apply again', async () => {
    const trip = await migrationRoundTrip(triggerPollerMigrations, database.url);
    expect(trip.applied).toEqual(Object.keys(triggerPollerMigrations).sort());
    expect(trip.afterUp).toEqual(['trigger_events', 'trigger_subscriptions']);
    expect(trip.afterDown).toEqual([]);
    expect(trip.afterUpAgain).toEqual(trip.afterUp);
  });
});
