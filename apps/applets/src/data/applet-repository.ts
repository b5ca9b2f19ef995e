import { sql, type Selectable } from 'kysely';
import type { StepFields } from '../domain/step-fields';
import type { AppletsDatabase, AppletsTable } from './database';

/** An applet row as stored. */
export type AppletRow = Selectable<AppletsTable>;

/** What creating an applet stores; `trigger_identity` is computed by the domain. */
export interface NewAppletRow {
  user_id: string;
  trigger_service_slug: string;
  trigger_slug: string;
  trigger_fields: StepFields;
  trigger_identity: string;
  action_service_slug: string;
  action_slug: string;
  action_fields: StepFields;
  enabled: boolean;
}

/** The columns an update may change; a changed `trigger_fields` must come with its new `trigger_identity`. */
export type AppletRowPatch = Partial<Pick<NewAppletRow, 'enabled' | 'action_fields'>> &
  (
    | { trigger_fields?: undefined; trigger_identity?: undefined }
    | { trigger_fields: StepFields; trigger_identity: string }
  );

/**
 * Inserts an applet and returns the stored row.
 *
 * @example
 *   const row = await insertApplet(db, { user_id, trigger_service_slug: 'weather', ..., enabled: true });
 */
export async function insertApplet(db: AppletsDatabase, applet: NewAppletRow): Promise<AppletRow> {
  return db
    .insertInto('applets')
    .values({
      ...applet,
      trigger_fields: JSON.stringify(applet.trigger_fields),
      action_fields: JSON.stringify(applet.action_fields),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Finds one of a user's applets; another user's applet is simply not found.
 *
 * @example
 *   const row = await findAppletForUser(db, userId, '17');
 */
export async function findAppletForUser(
  db: AppletsDatabase,
  userId: string,
  appletId: string,
): Promise<AppletRow | undefined> {
  return db
    .selectFrom('applets')
    .selectAll()
    .where('user_id', '=', userId)
    .where('id', '=', appletId)
    .executeTakeFirst();
}

/**
 * Lists a user's applets newest first, by keyset on `id`: pass the last id of the previous page as
 * `beforeId` (exclusive). Ask for one more row than the page size to learn whether there is a next page.
 *
 * @example
 *   const rows = await listAppletsForUser(db, userId, { beforeId: '120', limit: 21 });
 */
export async function listAppletsForUser(
  db: AppletsDatabase,
  userId: string,
  page: { beforeId?: string; limit: number },
): Promise<AppletRow[]> {
  let query = db.selectFrom('applets').selectAll().where('user_id', '=', userId);
  if (page.beforeId !== undefined) query = query.where('id', '<', page.beforeId);
  return query.orderBy('id', 'desc').limit(page.limit).execute();
}

/**
 * Reads one of a user's applets and locks its row until the transaction ends (`FOR UPDATE`), so the change
 * computed from it and its `version` bump cannot interleave with another change of the same applet.
 *
 * @example
 *   const current = await lockAppletForUser(trx, userId, '17');
 */
export async function lockAppletForUser(
  db: AppletsDatabase,
  userId: string,
  appletId: string,
): Promise<AppletRow | undefined> {
  return db
    .selectFrom('applets')
    .selectAll()
    .where('user_id', '=', userId)
    .where('id', '=', appletId)
    .forUpdate()
    .executeTakeFirst();
}

/**
 * Locks an applet by id alone (`FOR UPDATE`), for work that is not a user's request (recording a run);
 * `undefined` when it does not exist (deleted).
 *
 * @example
 *   const applet = await lockAppletById(trx, event.applet_id);
 */
export async function lockAppletById(db: AppletsDatabase, appletId: string): Promise<AppletRow | undefined> {
  return db.selectFrom('applets').selectAll().where('id', '=', appletId).forUpdate().executeTakeFirst();
}

/**
 * Applies a patch to one of a user's applets, bumps `version` (+1) and `updated_at`; `undefined` when not
 * found. Switching it on clears `disabled_reason` and restarts the auto-disable count (`enabled_at`);
 * switching it off (a user's choice) clears the reason too.
 *
 * @example
 *   const row = await updateAppletForUser(db, userId, '17', { enabled: false });
 */
export async function updateAppletForUser(
  db: AppletsDatabase,
  userId: string,
  appletId: string,
  patch: AppletRowPatch,
): Promise<AppletRow | undefined> {
  return db
    .updateTable('applets')
    .set((eb) => ({
      updated_at: sql<Date>`now()`,
      version: eb('version', '+', 1),
      ...(patch.enabled === undefined ? {} : { enabled: patch.enabled, disabled_reason: null }),
      ...(patch.enabled === true
        ? { enabled_at: sql<Date>`case when enabled then enabled_at else now() end` }
        : {}),
      ...(patch.action_fields === undefined ? {} : { action_fields: JSON.stringify(patch.action_fields) }),
      ...(patch.trigger_fields === undefined
        ? {}
        : { trigger_fields: JSON.stringify(patch.trigger_fields), trigger_identity: patch.trigger_identity }),
    }))
    .where('user_id', '=', userId)
    .where('id', '=', appletId)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Switches an applet off on the engine's behalf (auto-disable) with the reason shown to its owner, bumping
 * `version`; `undefined` when it is gone.
 *
 * @example
 *   const row = await disableAppletWithReason(trx, '17', 'disabled after 10 failed runs in a row');
 */
export async function disableAppletWithReason(
  db: AppletsDatabase,
  appletId: string,
  reason: string,
): Promise<AppletRow | undefined> {
  return db
    .updateTable('applets')
    .set((eb) => ({
      enabled: false,
      disabled_reason: reason,
      version: eb('version', '+', 1),
      updated_at: sql<Date>`now()`,
    }))
    .where('id', '=', appletId)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Bumps the `version` of every applet of a user (not `updated_at`: the applets did not change, their owner
 * did) and returns them, for re-publishing their state after a change of the user (time zone).
 *
 * @example
 *   const rows = await bumpAppletVersionsOfUser(trx, userId);
 */
export async function bumpAppletVersionsOfUser(db: AppletsDatabase, userId: string): Promise<AppletRow[]> {
  return db
    .updateTable('applets')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('user_id', '=', userId)
    .returningAll()
    .execute();
}

/**
 * Deletes one of a user's applets; resolves the deleted row (its last state, for `applet.changed`), or
 * `undefined` when there was nothing to delete.
 *
 * @example
 *   const deleted = await deleteAppletForUser(db, userId, '17');
 */
export async function deleteAppletForUser(
  db: AppletsDatabase,
  userId: string,
  appletId: string,
): Promise<AppletRow | undefined> {
  return db
    .deleteFrom('applets')
    .where('user_id', '=', userId)
    .where('id', '=', appletId)
    .returningAll()
    .executeTakeFirst();
}
