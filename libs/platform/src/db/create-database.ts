import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { HealthCheck } from '../health/health-types';
import type { Component } from '../lifecycle/component';

/** The settings {@link createDatabase} reads; the output of {@link databaseConfig} fits. */
export interface DatabaseConfig {
  DATABASE_URL: string;
  DATABASE_POOL_MAX?: number;
}

/** A Kysely instance with what the lifecycle and health need. */
export interface Database<DB> {
  db: Kysely<DB>;
  pool: pg.Pool;
  /** Ends the pool (after the HTTP server and workers stopped, since it is registered before them). */
  component: Component;
  /** Readiness: `SELECT 1` answers within the check's time-out. */
  healthCheck: HealthCheck;
}

/**
 * Kysely on a `pg` pool from DATABASE_URL. Connecting times out after 5 s so a blackholed database fails
 * requests instead of queueing them forever; pool errors (a backend dying) are logged, not fatal.
 *
 * @example
 * interface DB { applets: { id: string; name: string } }
 * const database = createDatabase<DB>(config, logger);
 * lifecycle.register(database.component);
 * health.add(database.healthCheck);
 * const applets = await database.db.selectFrom('applets').selectAll().execute();
 */
export function createDatabase<DB>(config: DatabaseConfig, logger?: Logger): Database<DB> {
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (error) => logger?.warn({ err: error }, 'idle postgres connection failed'));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    component: { name: 'postgres', stop: () => db.destroy() },
    healthCheck: {
      name: 'postgres',
      componentType: 'datastore',
      async run() {
        await sql`select 1`.execute(db);
      },
    },
  };
}
