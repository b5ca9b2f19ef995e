import type { Migration } from 'kysely';
import * as createApplets from './0001-create-applets';
import * as createPartnerServices from './0002-create-partner-services';
import * as createActionRuns from './0003-create-action-runs';
import * as sealPartnerKeys from './0004-seal-partner-keys';

/**
 * The actions service's migrations as a static record (the service is bundled, so it cannot read a
 * folder at run time). Keys sort in the order they run; add new files here. The platform's events tables
 * (outbox, inbox) come with the service's `events` declaration, not from here.
 *
 * @example
 *   await runMigrations(db, { service: 'actions', migrations: actionsMigrations });
 */
export const actionsMigrations: Record<string, Migration> = {
  '0001-create-applets': createApplets,
  '0002-create-partner-services': createPartnerServices,
  '0003-create-action-runs': createActionRuns,
  '0004-seal-partner-keys': sealPartnerKeys,
};
