import type { SealedColumn } from '../crypto/rotate-secrets';
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
import type { Subscription } from '../events/subscription';

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
  /**
   * The service's events (Encore's topics and subscriptions, declared in code). When set, the platform
   * applies its outbox and inbox tables with the service's migrations (`runEventsMigrations`), and the config
   * needs `databaseConfig`, `redisConfig` and `eventsConfig`. See {@link ServiceEvents}.
   */
  events?: ServiceEvents<ServiceContext<S, DB>>;
  /**
   * The columns where the service keeps credentials sealed with SECRETS_KEYS (`secretsConfig`). The platform
   * then adds the `run-job rotate-secrets` job (`resealColumns`: every value sealed again under the first key,
   * values still in clear sealed) and, in the web process, the readiness check that warns while a value is in
   * clear (`unsealedSecretsCheck`).
   */
  sealedColumns?: readonly SealedColumn[];
}

/**
 * What a service publishes and subscribes to.
 *
 * - `publishes: true`: every `serve` and `worker` process runs an `OutboxRelay` (one relays at a time,
 *   by an advisory lock) and reports the relay lag in readiness (`warn` above EVENTS_RELAY_LAG_WARN_MS), so
 *   whatever `publish(trx, topic, event)` wrote reaches the topic's stream.
 * - `subscriptions(ctx)`: the subscriptions, built per process (pass {@link eventsOptions}`(ctx)` to
 *   `subscribe`). They run in the process named by `subscribeIn`: default `worker` when the service has a
 *   worker, else `serve`. Each is a lifecycle component, started before the HTTP server and stopped after it.
 *
 * @example
 * events: {
 *   publishes: true,
 *   subscriptions: (ctx) => [
 *     subscribe(appletChanged, 'trigger-poller', (event, meta) => keepSubscription(ctx, event, meta), eventsOptions(ctx)),
 *   ],
 * }
 */
export interface ServiceEvents<C> {
  publishes?: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list of subscriptions to topics of any event type
  subscriptions?: (ctx: C) => Subscription<any>[];
  subscribeIn?: 'serve' | 'worker';
}
