import { sql, type Kysely } from 'kysely';

/**
 * Trigger events as partners returned them. A partner answers its newest events whether or not they were
 * seen, so `(trigger_identity, event_id)` is unique and inserts skip known ids: each event is recorded once.
 * Events go with their subscription (cascade).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('trigger_events')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('trigger_identity', 'text', (col) =>
      col.notNull().references('trigger_subscriptions.trigger_identity').onDelete('cascade'),
    )
    .addColumn('event_id', 'text', (col) => col.notNull())
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('event_timestamp', 'timestamptz', (col) => col.notNull())
    .addColumn('received_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('trigger_events_identity_event_id_key', ['trigger_identity', 'event_id'])
    .execute();
  await db.schema
    .createIndex('trigger_events_identity_received_idx')
    .on('trigger_events')
    .columns(['trigger_identity', 'received_at'])
    .execute();
}

/** Drops the events. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('trigger_events').execute();
}
