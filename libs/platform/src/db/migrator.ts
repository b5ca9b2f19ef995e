import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResult,
  Migrator,
  sql,
} from 'kysely';
import type { Logger } from 'pino';

export type { Migration } from 'kysely';

/**
 * A service's migrations, imported statically (esbuild bundles cannot read a folder at run time). Keys sort
 * in apply order: name files `0001-create-applets.ts`, `0002-...`.
 *
 * @example
 * // migrations/index.ts
 * import * as m0001 from './0001-create-applets';
 * export const migrations: Migrations = { '0001-create-applets': m0001 };
 */
export type Migrations = Record<string, Migration>;

/** Hands Kysely's Migrator a fixed record instead of reading a folder. */
export class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Migrations) {}

  async getMigrations(): Promise<Migrations> {
    return this.migrations;
  }
}

/** Options of {@link runMigrations}. */
export interface RunMigrationsOptions {
  /** Names the advisory lock and the bookkeeping table (`<service>_migration`). */
  service: string;
  migrations: Migrations;
  logger?: Logger;
}

/** The applied-migrations table of a service: one per service, so services could share a database. */
export function migrationTableName(service: string): string {
  return `${service.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_migration`;
}

/**
 * Applies pending migrations (Kysely's Migrator, each in a transaction) while holding a Postgres session
 * advisory lock keyed on the service name, so instances starting at once take turns: the first applies,
 * the others find nothing left to do. Throws if a migration fails (nothing after it is applied).
 *
 * @example
 * const applied = await runMigrations(database.db, { service: 'applets', migrations, logger });
 */
export async function runMigrations<DB>(db: Kysely<DB>, options: RunMigrationsOptions): Promise<string[]> {
  const lockKey = `ittd:migrations:${options.service}`;
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(hashtextextended(${lockKey}, 0))`.execute(connection);
    try {
      const table = migrationTableName(options.service);
      const migrator = new Migrator({
        db: connection,
        provider: new StaticMigrationProvider(options.migrations),
        migrationTableName: table,
        migrationLockTableName: `${table}_lock`,
      });
      const { error, results = [] } = await migrator.migrateToLatest();
      const applied = results
        .filter((r: MigrationResult) => r.status === 'Success')
        .map((r) => r.migrationName);
      const failed = results.find((r: MigrationResult) => r.status === 'Error');
      if (error) {
        options.logger?.error({ err: error, migration: failed?.migrationName }, 'migration failed');
        throw error instanceof Error
          ? error
          : new Error(`migration ${failed?.migrationName} failed: ${String(error)}`);
      }
      options.logger?.info({ applied }, applied.length ? 'migrations applied' : 'no pending migrations');
      return applied;
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended(${lockKey}, 0))`.execute(connection);
    }
  });
}
