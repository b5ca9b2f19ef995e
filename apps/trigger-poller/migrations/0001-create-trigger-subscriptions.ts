import { sql, type Kysely } from 'kysely';

/**
 * Trigger subscriptions: one row per trigger identity the engine polls (a user + trigger + field values), with
 * what calling the partner needs. `service_key` is the secret sent as `IFTTT-Service-Key`; it is kept in clear
 * because it is sent out, and never selected for API answers. `service_key_sha256` (indexed) is how a realtime
 * notification's key is matched, so the lookup never compares secrets themselves. The partial order index
 * serves the schedule's "longest unpolled first" scan.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history, not today's DB type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('trigger_subscriptions')
    .addColumn('trigger_identity', 'text', (col) => col.primaryKey())
    .addColumn('service_slug', 'text', (col) => col.notNull())
    .addColumn('api_base_url', 'text', (col) => col.notNull())
    .addColumn('service_key', 'text', (col) => col.notNull())
    .addColumn('service_key_sha256', 'text', (col) => col.notNull())
    .addColumn('trigger_slug', 'text', (col) => col.notNull())
    .addColumn('trigger_fields', 'jsonb', (col) => col.notNull())
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('user_timezone', 'text', (col) => col.notNull().defaultTo('UTC'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_polled_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('trigger_subscriptions_key_user_idx')
    .on('trigger_subscriptions')
    .columns(['service_key_sha256', 'user_id'])
    .execute();
  await sql`CREATE INDEX trigger_subscriptions_last_polled_at_idx
    ON trigger_subscriptions (last_polled_at NULLS FIRST)`.execute(db);
}

/** Drops the subscriptions (their events first: see 0002). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('trigger_subscriptions').execute();
}
