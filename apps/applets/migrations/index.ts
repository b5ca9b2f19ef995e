import type { Migration } from 'kysely';
import * as createPartnerServices from './0001-create-partner-services';
import * as createUsersAndApiTokens from './0002-create-users-and-api-tokens';
import * as createApplets from './0003-create-applets';
import * as engineEvents from './0004-engine-events';
import * as security from './0005-security';

/**
 * The applets service's migrations as a static record, because the service is bundled by esbuild and
 * cannot read a migrations folder at run time. Keys sort in the order they run; add new files here.
 *
 * @example
 *   await migrateToLatest(db, appletMigrations);
 */
export const appletMigrations: Record<string, Migration> = {
  '0001-create-partner-services': createPartnerServices,
  '0002-create-users-and-api-tokens': createUsersAndApiTokens,
  '0003-create-applets': createApplets,
  '0004-engine-events': engineEvents,
  '0005-security': security,
};
