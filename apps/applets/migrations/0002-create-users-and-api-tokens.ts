import { sql, type Kysely } from 'kysely';

/**
 * Users and their API tokens. Only the SHA-256 of a token is stored: tokens are 256-bit random values,
 * so a fast hash is enough (no password-style KDF needed) and a database leak does not leak tokens.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('name', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('user_id', 'bigint', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token_sha256', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('api_tokens_user_id_idx').on('api_tokens').column('user_id').execute();
}

/** Drops tokens, then users. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_tokens').execute();
  await db.schema.dropTable('users').execute();
}
