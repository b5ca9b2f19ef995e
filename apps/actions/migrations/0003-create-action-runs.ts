import { sql, type Kysely } from 'kysely';

/**
 * Action runs: one row per (applet, trigger identity, trigger event), the truth of what ran. The unique key
 * makes a trigger event delivered (or published) twice create one run. A run is `pending` until it ends
 * `success`, `skipped` or `failed`; `finished_at` is set exactly once, in the transaction that publishes
 * `action-run.finished`. The row is a snapshot of what the run needs (action, fields, ingredients, user
 * time zone, request id), taken when the event came, so a job never depends on state that changed since.
 * `claimed_until` is the lease of the job calling the partner, so two jobs of one run never call at once.
 * `seq` orders the admin listing (newest first) and is its cursor.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('action_runs')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('seq', 'bigint', (col) => col.notNull().unique().generatedAlwaysAsIdentity())
    .addColumn('applet_id', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('user_timezone', 'text', (col) => col.notNull())
    .addColumn('trigger_identity', 'text', (col) => col.notNull())
    .addColumn('trigger_event_id', 'text', (col) => col.notNull())
    .addColumn('ingredients', 'jsonb', (col) => col.notNull())
    .addColumn('action_service', 'text', (col) => col.notNull())
    .addColumn('action_slug', 'text', (col) => col.notNull())
    .addColumn('action_fields', 'jsonb', (col) => col.notNull())
    .addColumn('request_id', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .defaultTo('pending')
        .check(sql`status IN ('pending', 'success', 'skipped', 'failed')`),
    )
    .addColumn('partner_record_id', 'text')
    .addColumn('message', 'text')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('duration_ms', 'integer')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('claimed_until', 'timestamptz')
    .addUniqueConstraint('action_runs_applet_trigger_event_key', [
      'applet_id',
      'trigger_identity',
      'trigger_event_id',
    ])
    .execute();
  await db.schema
    .createIndex('action_runs_applet_seq_idx')
    .on('action_runs')
    .columns(['applet_id', 'seq'])
    .execute();
  await sql`CREATE INDEX action_runs_unfinished_event_idx ON action_runs (trigger_identity, trigger_event_id)
    WHERE finished_at IS NULL`.execute(db);
}

/** Drops the action runs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('action_runs').execute();
}
