import type { AppletChangedEvent } from '@ittd/engine-events';
import { sql } from 'kysely';
import type { ActionsDatabase } from './database';

/**
 * Applies an `applet.changed` event to the local copy: inserts the applet, or overwrites it when the event's
 * `version` is newer than the copy's (an older or equal one is ignored: replicas may handle events out of
 * order). A `deleted` change keeps the row as a disabled tombstone. Resolves whether the copy changed.
 *
 * @example
 *   const applied = await applyAppletChange(trx, event); // false for a stale version
 */
export async function applyAppletChange(db: ActionsDatabase, event: AppletChangedEvent): Promise<boolean> {
  const deleted = event.change === 'deleted';
  const values = {
    applet_id: event.applet_id,
    version: event.version,
    enabled: event.enabled && !deleted,
    deleted,
    user_id: event.user.id,
    user_timezone: event.user.timezone,
    trigger_identity: event.trigger.trigger_identity,
    action_service: event.action.service,
    action_slug: event.action.slug,
    action_fields: JSON.stringify(event.action.fields),
  };
  const result = await db
    .insertInto('applets')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('applet_id')
        .doUpdateSet({
          version: (eb) => eb.ref('excluded.version'),
          enabled: (eb) => eb.ref('excluded.enabled'),
          deleted: (eb) => eb.ref('excluded.deleted'),
          user_id: (eb) => eb.ref('excluded.user_id'),
          user_timezone: (eb) => eb.ref('excluded.user_timezone'),
          trigger_identity: (eb) => eb.ref('excluded.trigger_identity'),
          action_service: (eb) => eb.ref('excluded.action_service'),
          action_slug: (eb) => eb.ref('excluded.action_slug'),
          action_fields: (eb) => eb.ref('excluded.action_fields'),
          updated_at: sql<Date>`now()`,
        })
        .where('applets.version', '<', (eb) => eb.ref('excluded.version')),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** This service's copy of an applet as operators see it (`GET /admin/applets/:applet_id`). */
export interface AppletCopyRow {
  applet_id: string;
  version: number;
  enabled: boolean;
  deleted: boolean;
  user_id: string;
  trigger_identity: string;
  action_service: string;
  action_slug: string;
  updated_at: Date;
}

/**
 * The local copy of an applet (kept from `applet.changed`), or `undefined` when no event about it arrived.
 *
 * @example
 *   const copy = await findAppletCopy(db, '7'); // { applet_id: '7', version: 3, enabled: true, ... }
 */
export async function findAppletCopy(
  db: ActionsDatabase,
  appletId: string,
): Promise<AppletCopyRow | undefined> {
  return db
    .selectFrom('applets')
    .select([
      'applet_id',
      'version',
      'enabled',
      'deleted',
      'user_id',
      'trigger_identity',
      'action_service',
      'action_slug',
      'updated_at',
    ])
    .where('applet_id', '=', appletId)
    .executeTakeFirst();
}
