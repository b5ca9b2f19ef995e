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
 * Applies a patch to one of a user's applets and bumps `updated_at`; `undefined` when not found.
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
    .set({
      updated_at: sql<Date>`now()`,
      ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
      ...(patch.action_fields === undefined ? {} : { action_fields: JSON.stringify(patch.action_fields) }),
      ...(patch.trigger_fields === undefined
        ? {}
        : { trigger_fields: JSON.stringify(patch.trigger_fields), trigger_identity: patch.trigger_identity }),
    })
    .where('user_id', '=', userId)
    .where('id', '=', appletId)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Deletes one of a user's applets; `false` when there was nothing to delete.
 *
 * @example
 *   const deleted = await deleteAppletForUser(db, userId, '17');
 */
export async function deleteAppletForUser(
  db: AppletsDatabase,
  userId: string,
  appletId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('applets')
    .where('user_id', '=', userId)
    .where('id', '=', appletId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
