import { sql, type Selectable } from 'kysely';
import type { ApiTokensTable, AppletsDatabase, UsersTable } from './database';

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

/** A token row as it may leave the service: never the hash. */
export type ApiTokenRow = Omit<Selectable<ApiTokensTable>, 'token_sha256' | 'user_id'>;

const tokenColumns = ['id', 'name', 'created_at', 'last_used_at', 'expires_at'] as const;

/**
 * Stores the SHA-256 hex of a new API token for a user, with its name and optional expiry.
 *
 * @example
 *   const row = await insertApiToken(db, user.id, hashApiToken(token), { name: 'ci', expiresAt: null });
 */
export async function insertApiToken(
  db: AppletsDatabase,
  userId: string,
  tokenSha256: string,
  meta: { name?: string; expiresAt?: Date | null } = {},
): Promise<ApiTokenRow> {
  return db
    .insertInto('api_tokens')
    .values({
      user_id: userId,
      token_sha256: tokenSha256,
      expires_at: meta.expiresAt ?? null,
      ...(meta.name === undefined ? {} : { name: meta.name }),
    })
    .returning(tokenColumns)
    .executeTakeFirstOrThrow();
}

/**
 * Resolves a token hash to its token and user, or `undefined` for an unknown, revoked (deleted) or expired
 * token: expiry is checked by Postgres' clock in the same query, so an expired token fails at once.
 *
 * @example
 *   const found = await findActiveApiToken(db, hashApiToken(bearer));
 */
export async function findActiveApiToken(
  db: AppletsDatabase,
  tokenSha256: string,
): Promise<{ id: string; user_id: string; last_used_at: Date | null } | undefined> {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'user_id', 'last_used_at'])
    .where('token_sha256', '=', tokenSha256)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .executeTakeFirst();
}

/**
 * Records a token's use: `last_used_at = now()` unless it was set within the last minute (so a busy token
 * costs one write a minute, not one per request).
 *
 * @example
 *   await touchApiToken(db, token.id);
 */
export async function touchApiToken(db: AppletsDatabase, tokenId: string): Promise<void> {
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: sql<Date>`now()` })
    .where('id', '=', tokenId)
    .where((eb) =>
      eb.or([
        eb('last_used_at', 'is', null),
        eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`),
      ]),
    )
    .execute();
}

/**
 * A user's tokens, newest first, expired ones included (they show their `expires_at`); never the hash.
 *
 * @example
 *   const tokens = await listApiTokens(db, '42');
 */
export async function listApiTokens(db: AppletsDatabase, userId: string): Promise<ApiTokenRow[]> {
  return db
    .selectFrom('api_tokens')
    .select(tokenColumns)
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .execute();
}

/**
 * Revokes (deletes) one token of a user; `false` when the user has no such token.
 *
 * @example
 *   if (!(await deleteApiToken(db, '42', '7'))) throw notFound;
 */
export async function deleteApiToken(db: AppletsDatabase, userId: string, tokenId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('api_tokens')
    .where('user_id', '=', userId)
    .where('id', '=', tokenId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Revokes (deletes) every token of a user; resolves how many there were.
 *
 * @example
 *   const revoked = await deleteApiTokensOfUser(db, '42');
 */
export async function deleteApiTokensOfUser(db: AppletsDatabase, userId: string): Promise<number> {
  const result = await db.deleteFrom('api_tokens').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
