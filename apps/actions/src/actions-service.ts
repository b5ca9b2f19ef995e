import { createHttpService, type ServiceDefinition } from '@ittd/platform';
import { actionsMigrations } from '../migrations';
import { configSchema } from './config';
import type { DB } from './data/database';
import { actionsSubscriptions } from './events/engine-subscriptions';
import { mountActionsApi } from './http/actions-api';
import { createActionsWorker } from './jobs/actions-worker';
import { partnerKeyContext } from './partner/partner-key-context';

/** The column actions keeps sealed: every partner service key. */
export const actionsSealedColumn = {
  table: 'partner_services',
  keyColumn: 'slug',
  column: 'service_key_sealed',
  context: partnerKeyContext,
};

/**
 * The actions service as the platform runs it: config, migrations, the web app (admin API, health), the
 * worker (`action-run` jobs) and its events: it publishes `action-run.finished` (the outbox relay runs in
 * both processes) and subscribes, in the worker, to `applet.changed`, `partner-service.changed` and
 * `trigger-event.recorded`. `main.ts` hands it to `runService`; tests hand it to `startService`.
 *
 * @example
 *   const web = await startService(actionsService, { env, port: 0, host: '127.0.0.1' });
 *   const worker = await startService(actionsService, { env, mode: 'worker', port: 0, host: '127.0.0.1' });
 */
export const actionsService: ServiceDefinition<typeof configSchema, DB> = {
  name: 'actions',
  config: configSchema,
  migrations: actionsMigrations,
  web: (ctx) =>
    createHttpService({
      ...ctx,
      routes: (app) => mountActionsApi(app, { db: ctx.db, adminToken: ctx.config.ADMIN_TOKEN }),
    }),
  worker: createActionsWorker,
  // run-job rotate-secrets (seals every stored key again under SECRETS_KEYS' first key) and the readiness
  // warning while a key is in clear come from the platform (platform README "Security").
  sealedColumns: [actionsSealedColumn],
  events: { publishes: true, subscriptions: actionsSubscriptions },
};
