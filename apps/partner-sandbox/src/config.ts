import { z } from 'zod';
import { baseServiceConfig, databaseConfig } from '@ittd/platform';

/**
 * The partner-sandbox service's environment: the platform's HTTP, logging, lifecycle and Postgres groups.
 * `describe-config` prints it; the deploy targets check service.json against it.
 *
 * @example
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/partner_sandbox node dist/apps/partner-sandbox/main.js serve
 */
export const configSchema = z.object({
  ...baseServiceConfig,
  ...databaseConfig,
});

/** The parsed config. */
export type PartnerSandboxConfig = z.output<typeof configSchema>;
