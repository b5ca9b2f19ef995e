import { createHttpService, eventMetrics, partnerSecurity, type ServiceDefinition } from '@ittd/platform';
import { appletMigrations } from '../migrations';
import { configSchema } from './config';
import { partnerServiceKeyContext, type DB } from './data/database';
import { actionRunSubscription } from './events/action-run-subscription';
import { mountAppletsApi } from './http/applets-api';

/**
 * The applets service as the platform runs it: config, migrations, the web app and its events. It
 * publishes `applet.changed` and `partner-service.changed` (so every process runs the outbox relay) and
 * subscribes to `action-run.finished`; having no worker, the subscription runs in `serve`. `run-job
 * rotate-secrets` seals every stored partner key again under the first key of SECRETS_KEYS. `main.ts` hands
 * it to `runService` (CLI: serve, migrate, run-job, describe-config); tests hand it to `startService` with
 * their own env.
 *
 * @example
 *   const service = await startService(appletsService, { env, port: 0, host: '127.0.0.1' });
 */
/** The column applets keeps sealed: every partner service key. */
export const appletsSealedColumn = {
  table: 'partner_services',
  keyColumn: 'slug',
  column: 'service_key_sealed',
  context: partnerServiceKeyContext,
};

export const appletsService: ServiceDefinition<typeof configSchema, DB> = {
  name: 'applets',
  config: configSchema,
  migrations: appletMigrations,
  web: (ctx) =>
    createHttpService({
      ...ctx,
      bodyLimit: ctx.config.BODY_LIMIT,
      routes: (app) =>
        mountAppletsApi(app, {
          db: ctx.db,
          redis: ctx.redis,
          adminToken: ctx.config.ADMIN_TOKEN,
          rateLimitPerMinute: ctx.config.API_RATE_LIMIT_PER_MINUTE,
          preAuthLimitPerMinute: ctx.config.PREAUTH_RATE_LIMIT_PER_MINUTE,
          secrets: partnerSecurity(ctx),
          redisKeyPrefix: ctx.config.REDIS_KEY_PREFIX,
          eventMetrics: eventMetrics(ctx.metrics),
        }),
    }),
  // run-job rotate-secrets (seals every stored key again under SECRETS_KEYS' first key) and the readiness
  // warning while a key is in clear come from the platform (platform README "Security").
  sealedColumns: [appletsSealedColumn],
  events: {
    publishes: true,
    subscriptions: (ctx) => [actionRunSubscription(ctx)],
  },
};
