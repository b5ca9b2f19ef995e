import type { Selectable } from 'kysely';
import type { AppletsDatabase, UsersTable } from './database';

/** A user row. */
export type UserRow = Selectable<UsersTable>;

/**
 * Inserts a user (time zone default `UTC`); returns `undefined` when the name is taken.
 *
 * @example
 *   const user = await insertUser(db, 'ada', 'Europe/Berlin');
 */
export async function insertUser(
  db: AppletsDatabase,
  name: string,
  timezone?: string,
): Promise<UserRow | undefined> {
  return db
    .insertInto('users')
    .values(timezone === undefined ? { name } : { name, timezone })
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/**
 * Finds a user by id.
 *
 * @example
 *   const user = await findUserById(db, '42');
 */
export async function findUserById(db: AppletsDatabase, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Reads a user and locks the row until the transaction ends: `update` (`FOR UPDATE`, to change it) or
 * `share` (`FOR SHARE`, to keep it from changing meanwhile).
 *
 * @example
 *   const user = await lockUserById(trx, '42', 'update');
 */
export async function lockUserById(
  db: AppletsDatabase,
  id: string,
  mode: 'update' | 'share',
): Promise<UserRow | undefined> {
  const query = db.selectFrom('users').selectAll().where('id', '=', id);
  return (mode === 'update' ? query.forUpdate() : query.forShare()).executeTakeFirst();
}

/**
 * Sets a user's time zone; resolves the updated row, or `undefined` for an unknown user.
 *
 * @example
 *   await updateUserTimezone(trx, '42', 'Europe/Berlin');
 */
export async function updateUserTimezone(
  db: AppletsDatabase,
  id: string,
  timezone: string,
): Promise<UserRow | undefined> {
  return db.updateTable('users').set({ timezone }).where('id', '=', id).returningAll().executeTakeFirst();
}

/**
 * Stores the SHA-256 hex of a new API token for a user.
 *
 * @example
 *   await insertApiToken(db, user.id, hashApiToken(token));
 */
export async function insertApiToken(
  db: AppletsDatabase,
  userId: string,
  tokenSha256: string,
): Promise<void> {
  await db.insertInto('api_tokens').values({ user_id: userId, token_sha256: tokenSha256 }).execute();
}

/**
 * Resolves a token hash to its user's id, or `undefined` for an unknown token.
 *
 * @example
 *   const userId = await findUserIdByTokenSha256(db, hashApiToken(bearer));
 */
export async function findUserIdByTokenSha256(
  db: AppletsDatabase,
  tokenSha256: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .select('user_id')
    .where('token_sha256', '=', tokenSha256)
    .executeTakeFirst();
  return row?.user_id;
}
