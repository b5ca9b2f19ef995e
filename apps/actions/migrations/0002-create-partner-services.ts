import { sql, type Kysely } from 'kysely';

/**
 * One row per partner service, kept from applets' `partner-service.changed` events (newer `version` only):
 * where its Service API lives and the `IFTTT-Service-Key` sent to it. The key is a secret kept in clear
 * because it is sent out; it is selected only to call the partner, never returned nor logged. One row per
 * service, so a rotated key takes effect for every run with one change.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('partner_services')
    .addColumn('slug', 'text', (col) => col.primaryKey())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('api_base_url', 'text', (col) => col.notNull())
    .addColumn('service_key', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

/** Drops the partner services. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('partner_services').execute();
}
