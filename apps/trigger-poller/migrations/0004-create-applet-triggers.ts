import { sql, type Kysely } from 'kysely';

/**
 * `applet_triggers`: this service's copy of each applet's trigger, kept from `applet.changed` (only what
 * polling needs), one row per applet, `version` the newest applied. A deleted applet stays as a row with
 * `deleted = true` (a tombstone), so a late, older event cannot bring it back. The partial index serves
 * "how many enabled applets use this trigger identity".
 *
 * `trigger_identity_deletions`: trigger identities that lost their last applet (or that an operator
 * deleted) and whose partner still has to get `DELETE /ifttt/v1/triggers/{slug}/trigger_identity/{id}`,
 * written in the transaction that removed the subscription: the durable half of the delete job (see the
 * README). `next_attempt_at` drives the retries; `gave_up_at` is set after a 401/403 or the last attempt.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('applet_triggers')
    .addColumn('applet_id', 'text', (col) => col.primaryKey())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('trigger_identity', 'text', (col) => col.notNull())
    .addColumn('enabled', 'boolean', (col) => col.notNull())
    .addColumn('deleted', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('service_slug', 'text', (col) => col.notNull())
    .addColumn('trigger_slug', 'text', (col) => col.notNull())
    .addColumn('trigger_fields', 'jsonb', (col) => col.notNull())
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('user_timezone', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`CREATE INDEX applet_triggers_enabled_identity_idx
    ON applet_triggers (trigger_identity) WHERE enabled AND NOT deleted`.execute(db);

  await db.schema
    .createTable('trigger_identity_deletions')
    .addColumn('trigger_identity', 'text', (col) => col.primaryKey())
    .addColumn('service_slug', 'text', (col) => col.notNull())
    .addColumn('trigger_slug', 'text', (col) => col.notNull())
    .addColumn('request_id', 'text')
    .addColumn('requested_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_error', 'text')
    .addColumn('gave_up_at', 'timestamptz')
    .execute();
  await sql`CREATE INDEX trigger_identity_deletions_next_attempt_idx
    ON trigger_identity_deletions (next_attempt_at) WHERE gave_up_at IS NULL`.execute(db);
}

/** Drops both tables. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('trigger_identity_deletions').execute();
  await db.schema.dropTable('applet_triggers').execute();
}
