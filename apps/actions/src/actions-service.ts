import { createHttpService, type ServiceDefinition } from '@ittd/platform';
import { actionsMigrations } from '../migrations';
import { configSchema } from './config';
import type { DB } from './data/database';
import { noteRoutes } from './http/note-routes';

/**
 * The actions service as the platform runs it: config, migrations and the web app. `main.ts` hands it to
 * `runService`; tests hand it to `startService` with their own env.
 *
 * @example
 *   const service = await startService(actionsService, { env, port: 0, host: '127.0.0.1' });
 */
export const actionsService: ServiceDefinition<typeof configSchema, DB> = {
  name: 'actions',
  config: configSchema,
  migrations: actionsMigrations,
  web: (ctx) =>
    createHttpService({
      ...ctx,
      bodyLimit: ctx.config.BODY_LIMIT,
      routes: (app) => app.use('/v1/notes', noteRoutes(ctx.db)),
    }),
};
