import { sql, type Kysely } from 'kysely';

/**
 * The sandbox's state, shared by its replicas: users, the items of `new_item`, the trigger identities the
 * engine polled, the action calls received, and the faults set at run time.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history, not today's DB type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('items')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('list', 'text', (col) => col.notNull())
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('description', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('items_list_id').on('items').columns(['list', 'id desc']).execute();
  await db.schema
    .createTable('trigger_identities')
    .addColumn('trigger_identity', 'text', (col) => col.primaryKey())
    .addColumn('trigger_slug', 'text', (col) => col.notNull())
    .addColumn('trigger_fields', 'jsonb', (col) => col.notNull())
    .addColumn('user_id', 'text')
    .addColumn('first_polled_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_polled_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('action_records')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('action_slug', 'text', (col) => col.notNull())
    .addColumn('request', 'jsonb', (col) => col.notNull())
    .addColumn('request_id', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text')
    .addColumn('received_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('action_records_slug_id')
    .on('action_records')
    .columns(['action_slug', 'id desc'])
    .execute();
  await db.schema
    .createTable('faults')
    .addColumn('id', 'smallint', (col) => col.primaryKey().check(sql`id = 1`))
    .addColumn('faults', 'jsonb', (col) => col.notNull())
    .addColumn('fail_next', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

/** Drops the sandbox's tables. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['faults', 'action_records', 'trigger_identities', 'items', 'users']) {
    await db.schema.dropTable(table).execute();
  }
}
