import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, Migrator, NO_MIGRATIONS, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { StaticMigrationProvider } from '@ittd/platform';
import { createTestDatabase, type TestDatabase } from '@ittd/platform/testing';
import { triggerPollerMigrations } from '../migrations';

let database: TestDatabase;
let db: Kysely<unknown>;

async function tableNames(): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%' ORDER BY table_name`.execute(db);
  return result.rows.map((row) => row.table_name);
}

beforeAll(async () => {
  database = await createTestDatabase('trigger_poller_migrations');
  db = new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }),
  });
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

describe('migrations', () => {
  it('apply in order, roll all the way down and apply again', async () => {
    const migrator = new Migrator({ db, provider: new StaticMigrationProvider(triggerPollerMigrations) });
    const up = await migrator.migrateToLatest();
    expect(up.error).toBeUndefined();
    expect(up.results?.map((result) => result.migrationName)).toEqual(
      Object.keys(triggerPollerMigrations).sort(),
    );
    expect(await tableNames()).toEqual(['trigger_events', 'trigger_subscriptions']);

    const down = await migrator.migrateTo(NO_MIGRATIONS);
    expect(down.error).toBeUndefined();
    expect(await tableNames()).toEqual([]);

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    expect(await tableNames()).toHaveLength(2);
  });
});
