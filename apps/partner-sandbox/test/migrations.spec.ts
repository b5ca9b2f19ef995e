import { createTestDatabase, migrationRoundTrip, type TestDatabase } from '@ittd/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerSandboxMigrations } from '../migrations';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('partner_sandbox_migrations');
});

afterAll(() => database?.drop());

describe('migrations', () => {
  it('apply in order, roll all the way down and apply again', async () => {
    const trip = await migrationRoundTrip(partnerSandboxMigrations, database.url);
    expect(trip.applied).toEqual(Object.keys(partnerSandboxMigrations).sort());
    expect(trip.afterUp).toEqual(['action_records', 'faults', 'items', 'trigger_identities', 'users']);
    expect(trip.afterDown).toEqual([]);
    expect(trip.afterUpAgain).toEqual(trip.afterUp);
  });
});
