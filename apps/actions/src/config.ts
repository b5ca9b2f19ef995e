import { z } from 'zod';
import { baseServiceConfig, databaseConfig } from '@ittd/platform';

/**
 * The actions service's environment: the platform's HTTP, logging, lifecycle and Postgres groups.
 * `describe-config` prints it; the deploy targets check service.json against it.
 *
 * @example
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/actions node dist/apps/actions/main.js serve
 */
export const configSchema = z.object({
  ...baseServiceConfig,
  ...databaseConfig,
});

/** The parsed config. */
export type ActionsConfig = z.output<typeof configSchema>;
