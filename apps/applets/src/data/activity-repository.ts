import { sql, type Insertable, type Selectable } from 'kysely';
import type { AppletActivityTable, AppletsDatabase } from './database';

/** An activity row as stored. */
export type ActivityRow = Selectable<AppletActivityTable>;

/** What recording a run stores (`recorded_at` is the database's time). */
export type NewActivityRow = Omit<Insertable<AppletActivityTable>, 'recorded_at'>;

/** Where a page of activity starts: after the entry with this `finished_at` and `run_id` (exclusive). */
export interface ActivityPosition {
  finishedAt: Date;
  runId: string;
}

/**
 * Inserts a run's activity row, or updates the row of the same `run_id` (a redelivered or republished
 * `action-run.finished`) unless the stored one finished later. `recorded_at` stays that of the first insert.
 *
 * @example
 *   await upsertActivity(trx, { run_id: 'r1', applet_id: '7', status: 'failed', ... });
 */
export async function upsertActivity(db: AppletsDatabase, row: NewActivityRow): Promise<void> {
  await db
    .insertInto('applet_activity')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('run_id')
        .doUpdateSet((eb) => ({
          trigger_event_id: eb.ref('excluded.trigger_event_id'),
          status: eb.ref('excluded.status'),
          partner_record_id: eb.ref('excluded.partner_record_id'),
          message: eb.ref('excluded.message'),
          attempts: eb.ref('excluded.attempts'),
          duration_ms: eb.ref('excluded.duration_ms'),
          started_at: eb.ref('excluded.started_at'),
          finished_at: eb.ref('excluded.finished_at'),
        }))
        .where(sql<boolean>`excluded.finished_at >= applet_activity.finished_at`)
        .where('applet_activity.applet_id', '=', row.applet_id),
    )
    .execute();
}

/**
 * The latest `limit` runs of an applet recorded after `since` (newest `finished_at` first), with status and
 * message: what auto-disable looks at.
 *
 * @example
 *   const runs = await latestRunsOfApplet(trx, '7', applet.enabled_at, 10);
 */
export async function latestRunsOfApplet(
  db: AppletsDatabase,
  appletId: string,
  since: Date,
  limit: number,
): Promise<Pick<ActivityRow, 'status' | 'message'>[]> {
  return db
    .selectFrom('applet_activity')
    .select(['status', 'message'])
    .where('applet_id', '=', appletId)
    .where('recorded_at', '>', since)
    .orderBy('finished_at', 'desc')
    .orderBy('run_id', 'desc')
    .limit(limit)
    .execute();
}

/**
 * Lists an applet's activity newest first (`finished_at`, then `run_id`, both descending), by keyset: pass
 * the last entry of the previous page as `before`. Ask for one more than the page size to learn whether
 * there is a next page.
 *
 * @example
 *   const rows = await listActivityOfApplet(db, '7', { limit: 21 });
 */
export async function listActivityOfApplet(
  db: AppletsDatabase,
  appletId: string,
  page: { before?: ActivityPosition; limit: number },
): Promise<ActivityRow[]> {
  let query = db.selectFrom('applet_activity').selectAll().where('applet_id', '=', appletId);
  const before = page.before;
  if (before !== undefined) {
    query = query.where(
      sql<boolean>`(finished_at, run_id) < (${before.finishedAt}::timestamptz, ${before.runId}::text)`,
    );
  }
  return query.orderBy('finished_at', 'desc').orderBy('run_id', 'desc').limit(page.limit).execute();
}
