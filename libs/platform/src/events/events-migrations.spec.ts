import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationRoundTrip } from '../testing/migration-round-trip';
import { createTestDatabase, type TestDatabase } from '../testing/test-database';
import { eventsMigrations } from './events-migrations';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('events_migrations');
});
afterAll(() => database.drop());

describe('eventsMigrations', () => {
  it('create the outbox and inbox, and their downs remove them', async () => {
    const trip = await migrationRoundTrip(eventsMigrations, database.url);
    expect(trip.afterUp).toEqual(['platform_event_inbox', 'platform_event_outbox']);
    expect(trip.afterDown).toEqual([]);
    expect(trip.afterUpAgain).toEqual(trip.afterUp);
  });
});
