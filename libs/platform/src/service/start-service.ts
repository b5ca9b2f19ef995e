import { unsealedSecretsCheck } from '../crypto/unsealed-secrets-check';
import type { ConfigSchema } from '../config/describe-config';
import { redactConfig } from '../config/load-config';
import { createHttpService } from '../http/create-http-service';
import { httpServerComponent, type HttpServerComponent } from '../http/http-server';
import { createMetricsApp, metricsPlacement } from '../http/metrics-endpoint';
import { migrateService } from './migrate-service';
import { createServiceContext, type ServiceContextOptions } from './service-context';
import { registerServiceEvents } from './service-events';
import type { ServiceContext, ServiceDefinition, WebApp, WebAppParts } from './service-definition';

/** Which part of the service runs: the HTTP API or the background worker (which still serves health). */
export type ServiceMode = 'serve' | 'worker';

/** Options of {@link startService}. */
export interface StartServiceOptions extends ServiceContextOptions {
  mode?: ServiceMode;
  /** Overrides PORT; 0 picks a free port (tests). */
  port?: number;
  /** Interface to bind; overrides HOST; default HOST, else every interface (tests pass `127.0.0.1`). */
  host?: string;
  /** Overrides METRICS_PORT of the separate metrics listener; default 0 (a free port) when `port` is given. */
  metricsPort?: number;
}

/** A running service. */
export interface RunningService<S extends ConfigSchema, DB> {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Base URL of the separate metrics listener (`/metrics`), when METRICS_PORT differs from PORT. */
  metricsUrl?: string;
  ctx: ServiceContext<S, DB>;
  /** Stops everything at once (no drain delay); for tests. */
  stop(): Promise<void>;
}

function toParts(web: WebApp): WebAppParts {
  // An Express app is a function; the parts object is not.
  return typeof web === 'function' ? { app: web } : web;
}

/** Whether `serve` should migrate: MIGRATE_ON_START unset or true. */
function migrateOnStart(config: unknown): boolean {
  return (config as { MIGRATE_ON_START?: boolean }).MIGRATE_ON_START !== false;
}

/**
 * Starts a service in this process without the CLI: builds the context from `env`, runs migrations (unless
 * MIGRATE_ON_START=false), builds the web app (or the worker), listens, and starts every component. Tests
 * use it with an explicit env and `port: 0`.
 *
 * @example
 * const service = await startService(appletsService, { env: { DATABASE_URL: db.url }, port: 0, host: '127.0.0.1' });
 * await fetch(`${service.url}/applets`);
 * await service.stop();
 */
export async function startService<S extends ConfigSchema, DB>(
  definition: ServiceDefinition<S, DB>,
  options: StartServiceOptions = {},
): Promise<RunningService<S, DB>> {
  const ctx = createServiceContext(definition, options);
  const mode = options.mode ?? 'serve';
  ctx.logger.info({ mode, config: redactConfig(definition.config, ctx.config) }, 'service starting');
  try {
    const migrates = definition.migrations !== undefined || definition.events !== undefined;
    if (mode === 'serve' && migrates && ctx.hasDatabase && migrateOnStart(ctx.config)) {
      await migrateService(definition, ctx);
    }
    const config = ctx.config as { PORT?: number; HOST?: string; BODY_LIMIT?: string };
    registerServiceEvents(definition, ctx, mode);
    let web: WebAppParts;
    if (mode === 'serve') {
      if (!definition.web) throw new Error(`${definition.name} has no web app; run its worker instead`);
      // Warns while a credential stored before sealing is still in clear (run-job rotate-secrets seals it).
      if (definition.sealedColumns?.length)
        ctx.health.add(unsealedSecretsCheck(ctx.db, definition.sealedColumns));
      web = toParts(await definition.web(ctx));
    } else {
      if (!definition.worker) throw new Error(`${definition.name} has no worker`);
      ctx.lifecycle.register(await definition.worker(ctx));
      // A worker still answers health and metrics, so Marathon can check it like any task.
      web = { app: createHttpService({ ...ctx, bodyLimit: config.BODY_LIMIT, routes: () => undefined }) };
    }
    for (const component of web.components ?? []) ctx.lifecycle.register(component);
    for (const check of web.checks ?? []) ctx.health.add(check);
    // Registered before the API server: it starts first and stops last, so scrapes see the drain.
    const placement = metricsPlacement(ctx.config, definition.name);
    let metricsServer: HttpServerComponent | undefined;
    if (placement.separatePort !== undefined) {
      metricsServer = httpServerComponent(createMetricsApp(ctx.metrics, placement.token), {
        port: options.metricsPort ?? (options.port === undefined ? placement.separatePort : 0),
        host: options.host ?? config.HOST,
        logger: ctx.logger,
        name: 'metrics-server',
      });
      ctx.lifecycle.register(metricsServer);
    }
    const server = httpServerComponent(web.app, {
      port: options.port ?? config.PORT ?? 3000,
      host: options.host ?? config.HOST,
      logger: ctx.logger,
    });
    ctx.lifecycle.register(server);
    await ctx.lifecycle.start();
    return {
      url: server.url(),
      metricsUrl: metricsServer?.url(),
      ctx,
      stop: () => ctx.lifecycle.stop({ drain: false }),
    };
  } catch (error) {
    await ctx.lifecycle.stop({ drain: false });
    throw error;
  }
}
