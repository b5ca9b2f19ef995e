import { createHttpService, type ServiceDefinition } from '@ittd/platform';
import { partnerSandboxMigrations } from '../migrations';
import { configSchema } from './config';
import type { DB } from './data/database';
import { noteRoutes } from './http/note-routes';

/**
 * The partner-sandbox service as the platform runs it: config, migrations and the web app. `main.ts` hands it to
 * `runService`; tests hand it to `startService` with their own env.
 *
 * @example
 *   const service = await startService(partnerSandboxService, { env, port: 0, host: '127.0.0.1' });
 */
export const partnerSandboxService: ServiceDefinition<typeof configSchema, DB> = {
  name: 'partner-sandbox',
  config: configSchema,
  migrations: partnerSandboxMigrations,
  web: (ctx) =>
    createHttpService({
      ...ctx,
      bodyLimit: ctx.config.BODY_LIMIT,
      routes: (app) => app.use('/v1/notes', noteRoutes(ctx.db)),
    }),
};
