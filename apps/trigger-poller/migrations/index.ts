import type { Migration } from 'kysely';
import * as createTriggerSubscriptions from './0001-create-trigger-subscriptions';
import * as createTriggerEvents from './0002-create-trigger-events';
import * as createPartners from './0003-create-partners';
import * as createAppletTriggers from './0004-create-applet-triggers';
import * as sealPartnerKeys from './0005-seal-partner-keys';

/**
 * The trigger poller's migrations as a static record, because the service is bundled by esbuild and cannot
 * read a migrations folder at run time. Keys sort in the order they run; add new files here.
 *
 * @example
 *   await runMigrations(db, { service: 'trigger-poller', migrations: triggerPollerMigrations });
 */
export const triggerPollerMigrations: Record<string, Migration> = {
  '0001-create-trigger-subscriptions': createTriggerSubscriptions,
  '0002-create-trigger-events': createTriggerEvents,
  '0003-create-partners': createPartners,
  '0004-create-applet-triggers': createAppletTriggers,
  '0005-seal-partner-keys': sealPartnerKeys,
};
