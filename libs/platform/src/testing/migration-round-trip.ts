import { Kysely, Migrator, NO_MIGRATIONS, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { StaticMigrationProvider, type Migrations } from '../db/migrator';

/** The public tables (Kysely's bookkeeping left out) after each step of {@link migrationRoundTrip}. */
export interface MigrationRoundTrip {
  /** Migration names in the order they were applied. */
  applied: string[];
  afterUp: string[];
  afterDown: string[];
  afterUpAgain: string[];
}

async function publicTables(db: Kysely<unknown>): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%' ORDER BY table_name`.execute(db);
  return result.rows.map((row) => row.table_name);
}

/**
 * Applies a service's migrations to an empty database, rolls all of them back, and applies them again, so every
 * service can check that its `down`s undo its `up`s (a deploy rollback depends on it). Throws on any migration
 * error; the caller asserts on the tables.
 *
 * @example
 * const trip = await migrationRoundTrip(appletMigrations, database.url);
 * expect(trip.afterUp).toEqual(['applets', 'users']);
 * expect(trip.afterDown).toEqual([]);
 * expect(trip.afterUpAgain).toEqual(trip.afterUp);
 */
export async function migrationRoundTrip(
  migrations: Migrations,
  databaseUrl: string,
): Promise<MigrationRoundTrip> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // A lost connection fails the running query; without listeners its 'error' event would crash the test run.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  try {
    const migrator = new Migrator({ db, provider: new StaticMigrationProvider(migrations) });
    const step = async (run: Promise<{ error?: unknown; results?: { migrationName: string }[] }>) => {
      const { error, results } = await run;
      if (error) throw error;
      return results?.map((result) => result.migrationName) ?? [];
    };
    const applied = await step(migrator.migrateToLatest());
    const afterUp = await publicTables(db);
    await step(migrator.migrateTo(NO_MIGRATIONS));
    const afterDown = await publicTables(db);
    await step(migrator.migrateToLatest());
    return { applied, afterUp, afterDown, afterUpAgain: await publicTables(db) };
  } finally {
    await db.destroy();
  }
}
