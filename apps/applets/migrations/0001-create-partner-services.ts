import { sql, type Kysely } from 'kysely';

/**
 * The partner service registry: one row per service whose triggers and actions applets can use.
 * `service_key` is the secret the engine sends as `IFTTT-Service-Key`; it is stored so the engine can
 * call the partner, and the repository never selects it for API responses.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history, not today's DB type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('partner_services')
    .addColumn('slug', 'text', (col) => col.primaryKey().check(sql`slug ~ '^[a-z0-9][a-z0-9_]{0,62}$'`))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('api_base_url', 'text', (col) => col.notNull())
    .addColumn('service_key', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

/** Drops the registry (only possible once no applet references it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('partner_services').execute();
}
