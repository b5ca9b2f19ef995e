import { createHttpService, requireBearerToken, type ServiceDefinition } from '@ittd/platform';
import { partnerSandboxMigrations } from '../migrations';
import { configSchema } from './config';
import type { DB } from './data/database';
import { FaultState } from './domain/fault-state';
import { configuredFaults } from './domain/faults';
import { controlRoutes } from './http/control-routes';
import { faultInjection } from './http/fault-injection';
import { serviceApiErrors, serviceApiNotFound } from './http/service-api-errors';
import { serviceApiRoutes } from './http/service-api-routes';

/**
 * The partner sandbox as the platform runs it: a reference partner service implementing the IFTTT Service
 * API under `/ifttt/v1` (with the faults in effect injected), and its control API under `/control`. State
 * lives in its Postgres database, so replicas agree. `main.ts` hands it to `runService`; tests hand it to
 * `startService`.
 *
 * @example
 *   const service = await startService(partnerSandboxService, { env, port: 0, host: '127.0.0.1' });
 */
export const partnerSandboxService: ServiceDefinition<typeof configSchema, DB> = {
  name: 'partner-sandbox',
  config: configSchema,
  migrations: partnerSandboxMigrations,
  web: (ctx) => {
    const { config, db } = ctx;
    const faults = new FaultState(db, configuredFaults(config), config.FAULT_REFRESH_MS);
    return createHttpService({
      ...ctx,
      bodyLimit: config.BODY_LIMIT,
      routes: (app) => {
        app.use(
          '/ifttt/v1',
          faultInjection(faults, config.FAULT_HANG_MS),
          serviceApiRoutes(db, config.SERVICE_KEY),
          serviceApiNotFound,
          serviceApiErrors,
        );
        app.use(
          '/control',
          requireBearerToken(config.CONTROL_TOKEN),
          controlRoutes({
            db,
            serviceKey: config.SERVICE_KEY,
            faults,
            engineUrl: config.ENGINE_URL,
            notifyTimeoutMs: config.NOTIFY_TIMEOUT_MS,
          }),
        );
      },
    });
  },
};
