import { sql, type Kysely } from 'kysely';

/**
 * The local copy of the applets this service runs, kept from applets' `applet.changed` events (no call to
 * applets ever). `version` is the applet's change counter: an event is applied only when newer, so events
 * handled out of order never bring an old state back. A deleted applet stays as a tombstone
 * (`deleted`, `enabled` false) so a late older `saved` cannot revive it. The partial index serves "enabled
 * applets on this trigger identity", the lookup of every trigger event.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history, not today's DB type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('applets')
    .addColumn('applet_id', 'text', (col) => col.primaryKey())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('enabled', 'boolean', (col) => col.notNull())
    .addColumn('deleted', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('user_timezone', 'text', (col) => col.notNull())
    .addColumn('trigger_identity', 'text', (col) => col.notNull())
    .addColumn('action_service', 'text', (col) => col.notNull())
    .addColumn('action_slug', 'text', (col) => col.notNull())
    .addColumn('action_fields', 'jsonb', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`CREATE INDEX applets_enabled_trigger_identity_idx ON applets (trigger_identity) WHERE enabled`.execute(
    db,
  );
}

/** Drops the applet copies. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('applets').execute();
}
