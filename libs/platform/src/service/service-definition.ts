import type { Express } from 'express';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { ConfigSchema } from '../config/describe-config';
import type { Migrations } from '../db/migrator';
import type { HealthRegistry } from '../health/health-registry';
import type { HealthCheck } from '../health/health-types';
import type { Component } from '../lifecycle/component';
import type { Lifecycle } from '../lifecycle/lifecycle';
import type { ScheduleDefinition } from '../schedule/schedule-definition';

/**
 * What every part of a service receives. `db` and `redis` exist when the config schema has DATABASE_URL /
 * REDIS_URL (spread `databaseConfig` / `redisConfig`); reading them otherwise throws a clear error.
 */
export interface ServiceContext<S extends ConfigSchema = ConfigSchema, DB = unknown> {
  name: string;
  config: z.output<S>;
  logger: Logger;
  metrics: Registry;
  health: HealthRegistry;
  lifecycle: Lifecycle;
  readonly db: Kysely<DB>;
  readonly redis: Redis;
  /** Whether the config has DATABASE_URL (so `db` exists). */
  hasDatabase: boolean;
  /** Whether the config has REDIS_URL (so `redis` exists). */
  hasRedis: boolean;
}

/** A web app with the components (started before the HTTP server, stopped after it) and checks it brings. */
export interface WebAppParts {
  app: Express;
  components?: Component[];
  checks?: HealthCheck[];
}

/** What `web` may return: the app alone, or the app with extra components and readiness checks. */
export type WebApp = Express | WebAppParts;

/**
 * A service, declared once and given to {@link runService} (CLI) or {@link startService} (tests).
 *
 * @example
 * export const appletsService: ServiceDefinition<typeof configSchema, DB> = {
 *   name: 'applets',
 *   config: configSchema,
 *   migrations,
 *   web: (ctx) => buildApp(ctx),
 *   jobs: { 'purge-disabled': (ctx) => purgeDisabled(ctx.db) },
 * };
 */
export interface ServiceDefinition<S extends ConfigSchema = ConfigSchema, DB = unknown> {
  /** Lower-case service name: log `service` field, metrics label, migration lock and table. */
  name: string;
  config: S;
  migrations?: Migrations;
  /** Builds the HTTP app (use {@link createHttpService} so it has the platform middleware). */
  web?: (ctx: ServiceContext<S, DB>) => WebApp | Promise<WebApp>;
  /** Builds the background worker for the `worker` command. */
  worker?: (ctx: ServiceContext<S, DB>) => Component | Promise<Component>;
  /** One-off jobs for `run-job <name>`. */
  jobs?: Record<string, (ctx: ServiceContext<S, DB>) => Promise<void>>;
  /**
   * Cron schedules. Each also runs once by name with `run-job <name>` (how Chronos/Metronome run it), and
   * `describe-config` lists them so the deploy tooling can check service.json's `jobs` against the code.
   */
  schedules?: readonly ScheduleDefinition<ServiceContext<S, DB>>[];
}
