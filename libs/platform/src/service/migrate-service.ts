import type { ConfigSchema } from '../config/describe-config';
import { createDatabase, type DatabaseConfig } from '../db/create-database';
import { runMigrations } from '../db/migrator';
import { runEventsMigrations } from '../events/events-migrations';
import { dependencyUnavailable } from './dependency-unavailable';
import type { ServiceContext, ServiceDefinition } from './service-definition';

/**
 * Applies a service's pending migrations ({@link runMigrations}), after the platform's events tables when the
 * service declares `events` ({@link runEventsMigrations}), on a connection of their own, without the
 * statement and query time-outs of the service's pool (a migration may rightly run for minutes); connect
 * time-out and keepalive stay. Used by `serve` (MIGRATE_ON_START) and `migrate`.
 *
 * @throws DependencyUnavailableError when Postgres cannot be reached or refuses the connection, e.g.
 *   `applets: cannot run migrations: Postgres at 127.0.0.1:1/applets is unreachable (connect ECONNREFUSED 127.0.0.1:1); check DATABASE_URL`.
 *   A failing migration throws its own error.
 * @example
 * const applied = await migrateService(definition, ctx); // ['0001-create-applets']
 */
export async function migrateService<S extends ConfigSchema, DB>(
  definition: ServiceDefinition<S, DB>,
  ctx: ServiceContext<S, DB>,
): Promise<string[]> {
  const settings = ctx.config as unknown as DatabaseConfig;
  const database = createDatabase<DB>(
    {
      ...settings,
      DATABASE_POOL_MAX: 1,
      DATABASE_STATEMENT_TIMEOUT_MS: 0,
      DATABASE_QUERY_TIMEOUT_MS: 0,
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: 0,
    },
    ctx.logger,
  );
  try {
    // The platform's outbox and inbox tables first: a service's migrations may rely on them, never the reverse.
    const platform = definition.events ? await runEventsMigrations(database.db, ctx.logger) : [];
    const own = await runMigrations(database.db, {
      service: definition.name,
      migrations: definition.migrations ?? {},
      logger: ctx.logger,
    });
    return [...platform, ...own];
  } catch (error) {
    throw (
      dependencyUnavailable(
        definition.name,
        'cannot run migrations',
        { DATABASE_URL: settings.DATABASE_URL },
        error,
      ) ?? error
    );
  } finally {
    await database.component.stop();
  }
}
