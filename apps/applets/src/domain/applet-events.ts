import { publish } from '@ittd/platform';
import type { Transaction } from 'kysely';
import { appletChanged, type AppletChangedEvent } from '@ittd/engine-events';
import type { AppletRow } from '../data/applet-repository';
import type { DB } from '../data/database';
import type { PublishContext } from './publish-context';

/** What happened to an applet, as `applet.changed` says it. */
export type AppletChange = AppletChangedEvent['change'];

/**
 * The `applet.changed` event of an applet row: its whole state, the owner's time zone, and `version` (the
 * row's, or the one given: a deleted row's last version + 1). `changed_at` is now.
 *
 * @example
 *   appletChangedEvent(row, 'Europe/Berlin', 'saved'); // { applet_id: '7', version: 2, change: 'saved', ... }
 */
export function appletChangedEvent(
  row: AppletRow,
  timezone: string,
  change: AppletChange,
  version: number = row.version,
): AppletChangedEvent {
  return {
    applet_id: row.id,
    version,
    change,
    enabled: change === 'deleted' ? false : row.enabled,
    disabled_reason: row.disabled_reason,
    user: { id: row.user_id, timezone },
    trigger: {
      service: row.trigger_service_slug,
      slug: row.trigger_slug,
      fields: row.trigger_fields,
      trigger_identity: row.trigger_identity,
    },
    action: { service: row.action_service_slug, slug: row.action_slug, fields: row.action_fields },
    changed_at: new Date().toISOString(),
  };
}

/**
 * Publishes an applet's change in the transaction that made it (the platform outbox: the event exists if
 * and only if the change commits), carrying the request id.
 *
 * @example
 *   await publishAppletChanged(trx, row, user.timezone, 'disabled', { requestId: req.id, metrics });
 */
export async function publishAppletChanged(
  trx: Transaction<DB>,
  row: AppletRow,
  timezone: string,
  change: AppletChange,
  publishing: PublishContext,
  version?: number,
): Promise<void> {
  await publish(trx, appletChanged, appletChangedEvent(row, timezone, change, version), publishing);
}
