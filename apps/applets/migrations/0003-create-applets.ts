import { sql, type Kysely } from 'kysely';

/**
 * Applets: a user's trigger (service + trigger slug + fields) wired to an action (service + action slug +
 * fields). `trigger_identity` is derived from user + service + trigger + fields and indexed, because the
 * engine looks applets up by it when a partner sends a realtime notification.
 * `id` is an identity column so that list pagination can use a plain keyset on it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('applets')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('user_id', 'bigint', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('trigger_service_slug', 'text', (col) => col.notNull().references('partner_services.slug'))
    .addColumn('trigger_slug', 'text', (col) => col.notNull())
    .addColumn('trigger_fields', 'jsonb', (col) => col.notNull())
    .addColumn('trigger_identity', 'text', (col) => col.notNull())
    .addColumn('action_service_slug', 'text', (col) => col.notNull().references('partner_services.slug'))
    .addColumn('action_slug', 'text', (col) => col.notNull())
    .addColumn('action_fields', 'jsonb', (col) => col.notNull())
    .addColumn('enabled', 'boolean', (col) => col.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('applets_user_id_id_idx').on('applets').columns(['user_id', 'id']).execute();
  await db.schema
    .createIndex('applets_trigger_identity_idx')
    .on('applets')
    .column('trigger_identity')
    .execute();
}

/** Drops the applets table. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('applets').execute();
}
