import {
  Kysely,
  PostgresDialect,
  type PostgresCursor,
  type PostgresPool,
  type PostgresPoolClient,
} from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { DEFAULT_CHECK_TIMEOUT_MS, type HealthCheck } from '../health/health-types';
import type { Component } from '../lifecycle/component';
import {
  DEFAULT_DATABASE_CONNECT_TIMEOUT_MS,
  DEFAULT_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  DEFAULT_DATABASE_QUERY_TIMEOUT_MS,
  DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS,
} from '../config/config-groups';
import { isQueryTimeout } from './postgres-errors';

/** Idle time before the first TCP keepalive probe on a Postgres socket, ms. */
export const DATABASE_KEEPALIVE_DELAY_MS = 10_000;

/**
 * The settings {@link createDatabase} reads; the output of {@link databaseConfig} fits. Times in ms; 0 turns
 * a time-out off; an absent setting takes its `DEFAULT_DATABASE_*` value.
 */
export interface DatabaseConfig {
  DATABASE_URL: string;
  DATABASE_POOL_MAX?: number;
  DATABASE_CONNECT_TIMEOUT_MS?: number;
  DATABASE_STATEMENT_TIMEOUT_MS?: number;
  DATABASE_QUERY_TIMEOUT_MS?: number;
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS?: number;
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

/** The pg pool options of a config: keepalive, time-outs, and the pool size. */
function poolOptions(config: DatabaseConfig): pg.PoolConfig {
  const statementTimeout = config.DATABASE_STATEMENT_TIMEOUT_MS ?? DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS;
  const queryTimeout = config.DATABASE_QUERY_TIMEOUT_MS ?? DEFAULT_DATABASE_QUERY_TIMEOUT_MS;
  const idleInTransaction =
    config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS ?? DEFAULT_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS;
  return {
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX ?? 10,
    connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS ?? DEFAULT_DATABASE_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: DATABASE_KEEPALIVE_DELAY_MS,
    // pg skips a time-out of 0 (none), as Postgres does.
    ...(statementTimeout > 0 && { statement_timeout: statementTimeout }),
    ...(queryTimeout > 0 && { query_timeout: queryTimeout }),
    ...(idleInTransaction > 0 && { idle_in_transaction_session_timeout: idleInTransaction }),
  };
}

/**
 * Ends a connection whose query timed out on the client side. pg leaves such a connection busy with the
 * unanswered query (every later query queues behind it) and the pool would take it back as healthy; ending
 * it makes the pool drop it and open a fresh one.
 */
function dropIfTimedOut(client: pg.PoolClient, error: unknown): void {
  if (isQueryTimeout(error)) client.end().catch(() => undefined);
}

/** The table a query names first after FROM / INTO / UPDATE (Kysely quotes identifiers), else `other`. */
const FIRST_TABLE = /\b(?:from|into|update)\s+"([A-Za-z0-9_]{1,63})"/i;

/** `db_queries_total{table}`: queries sent through the pool, by the first table they name. */
function queryCounter(registry: Registry): Counter<'table'> {
  const existing = registry.getSingleMetric('db_queries_total');
  if (existing) return existing as Counter<'table'>;
  return new Counter({
    name: 'db_queries_total',
    help: 'SQL statements sent to Postgres through the pool, by the first table they name (other: none found)',
    labelNames: ['table'],
    registers: [registry],
  });
}

/** The pool as Kysely sees it: the same clients, but one whose query timed out is dropped, not reused. */
function kyselyPool(pool: pg.Pool, counter?: Counter<'table'>): PostgresPool {
  const adapters = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const adapt = (client: pg.PoolClient): PostgresPoolClient => {
    const query = (sqlOrCursor: string | PostgresCursor<unknown>, parameters?: ReadonlyArray<unknown>) => {
      // Cursors (pg-cursor) pass through; the platform configures none.
      if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as never);
      counter?.inc({ table: FIRST_TABLE.exec(sqlOrCursor)?.[1] ?? 'other' });
      return client.query(sqlOrCursor, parameters as unknown[]).catch((error: unknown) => {
        dropIfTimedOut(client, error);
        throw error;
      });
    };
    // `client.release` is read at call time: pg-pool sets a new one on every checkout.
    return {
      query: query as unknown as PostgresPoolClient['query'],
      release: (destroy) => client.release(destroy),
    };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let adapter = adapters.get(client);
      if (!adapter) adapters.set(client, (adapter = adapt(client)));
      return adapter;
    },
    end: () => pool.end(),
  };
}

/**
 * Kysely on a `pg` pool from DATABASE_URL that survives losing Postgres: every connection failure is an
 * error for the query that was running (a rejected promise, never an unhandled `'error'` event), and the
 * pool recovers by itself once Postgres answers again.
 *
 * - Every client gets an `'error'` listener (logged at warn), idle or checked out.
 * - TCP keepalive on every socket (first probe after 10 s idle), so the OS finds dead peers.
 * - DATABASE_CONNECT_TIMEOUT_MS bounds opening a connection and waiting for a free one;
 *   DATABASE_STATEMENT_TIMEOUT_MS is the server-side `statement_timeout` (SQLSTATE 57014);
 *   DATABASE_QUERY_TIMEOUT_MS is the client-side wait for an answer, after which the connection is
 *   dropped from the pool; DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS ends sessions left idle in a transaction.
 * - The readiness check runs `SELECT 1` with a query time-out of its own check time-out, and drops the
 *   connection if it gets no answer, so readiness passes again within a few seconds of Postgres being
 *   reachable.
 *
 * Map the errors to answers with `problemFromDriverError` (the problem middleware does it for you).
 * With a `metrics` registry, every query is counted in `db_queries_total{table}` (the first table it names).
 *
 * @example
 * interface DB { applets: { id: string; name: string } }
 * const database = createDatabase<DB>(config, logger);
 * lifecycle.register(database.component);
 * health.add(database.healthCheck);
 * const applets = await database.db.selectFrom('applets').selectAll().execute();
 */
export function createDatabase<DB>(
  config: DatabaseConfig,
  logger?: Logger,
  metrics?: Registry,
): Database<DB> {
  const pool = new pg.Pool(poolOptions(config));
  pool.on('connect', (client) => {
    client.on('error', (error: Error) => logger?.warn({ err: error }, 'postgres connection failed'));
  });
  // pg-pool re-emits errors of idle clients here; the client's own listener above has logged them.
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: kyselyPool(pool, metrics && queryCounter(metrics)) }),
  });
  return {
    db,
    pool,
    component: { name: 'postgres', stop: () => db.destroy() },
    healthCheck: {
      name: 'postgres',
      componentType: 'datastore',
      timeoutMs: DEFAULT_CHECK_TIMEOUT_MS,
      async run() {
        const client = await pool.connect();
        try {
          // `query_timeout` per query is read by pg but missing from its types.
          await client.query({ text: 'select 1', query_timeout: DEFAULT_CHECK_TIMEOUT_MS } as pg.QueryConfig);
          client.release();
        } catch (error) {
          // No answer or a broken connection: take it out of the pool.
          client.release(error instanceof Error ? error : new Error(String(error)));
          throw error;
        }
      },
    },
  };
}
