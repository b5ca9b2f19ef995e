import { sql, type Kysely } from 'kysely';

/**
 * What the applet engine needs from applets (issue 8):
 * - `applets.version`: +1 in every UPDATE of an applet, the `version` of `applet.changed` (subscribers apply
 *   an event only when it is newer than their copy); `disabled_reason` says why the engine switched an applet
 *   off (null when it is on or the user switched it off); `enabled_at` is when it was last switched on, so
 *   auto-disable counts only runs recorded after the user enabled it again.
 * - `partner_services.version`: the `version` of `partner-service.changed`.
 * - `users.timezone`: IANA zone name sent to partners as `user.timezone`.
 * - `applet_activity`: one row per action run (`run_id`), from `action-run.finished`; goes with its applet.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('applets')
    .addColumn('version', 'integer', (col) =>
      col
        .notNull()
        .defaultTo(1)
        .check(sql`version > 0`),
    )
    .addColumn('disabled_reason', 'text')
    .addColumn('enabled_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .alterTable('partner_services')
    .addColumn('version', 'integer', (col) =>
      col
        .notNull()
        .defaultTo(1)
        .check(sql`version > 0`),
    )
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('timezone', 'text', (col) => col.notNull().defaultTo('UTC'))
    .execute();

  await db.schema
    .createTable('applet_activity')
    .addColumn('run_id', 'text', (col) => col.primaryKey())
    .addColumn('applet_id', 'bigint', (col) => col.notNull().references('applets.id').onDelete('cascade'))
    .addColumn('trigger_event_id', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('success', 'skipped', 'failed')`),
    )
    .addColumn('partner_record_id', 'text')
    .addColumn('message', 'text')
    .addColumn('attempts', 'integer', (col) => col.notNull())
    .addColumn('duration_ms', 'bigint', (col) => col.notNull())
    .addColumn('started_at', 'timestamptz', (col) => col.notNull())
    .addColumn('finished_at', 'timestamptz', (col) => col.notNull())
    .addColumn('recorded_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('applet_activity_applet_finished_idx')
    .on('applet_activity')
    .expression(sql`applet_id, finished_at desc, run_id desc`)
    .execute();
}

/** Drops the activity table and the added columns. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('applet_activity').execute();
  await db.schema.alterTable('users').dropColumn('timezone').execute();
  await db.schema.alterTable('partner_services').dropColumn('version').execute();
  await db.schema
    .alterTable('applets')
    .dropColumn('version')
    .dropColumn('disabled_reason')
    .dropColumn('enabled_at')
    .execute();
}
