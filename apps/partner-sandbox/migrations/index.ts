import type { Migration } from 'kysely';
import * as createSandboxTables from './0001-create-sandbox-tables';

/**
 * The partner-sandbox service's migrations as a static record (the service is bundled, so it cannot read a
 * folder at run time). Keys sort in the order they run; add new files here.
 */
export const partnerSandboxMigrations: Record<string, Migration> = {
  '0001-create-sandbox-tables': createSandboxTables,
};
