import { HttpProblem } from '@ittd/platform';
import type { AppletsDatabase } from '../data/database';
import {
  deleteApiToken,
  deleteApiTokensOfUser,
  findActiveApiToken,
  findUserById,
  insertApiToken,
  listApiTokens,
  touchApiToken,
  type ApiTokenRow,
} from '../data/user-repository';
import { generateApiToken, hashApiToken } from './api-token';
import { isDatabaseId } from './database-id';

/**
 * A user's API token as the API shows it: never the secret (nor its hash). `expires_at` null: never
 * expires; `last_used_at` is exact to a minute.
 *
 * @example
 *   { id: '7', name: 'ci', created_at: '2026-11-30T10:00:00.000Z', last_used_at: null, expires_at: '2027-01-01T00:00:00.000Z' }
 */
export interface ApiToken {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

/** A new token: its metadata and the secret, shown this once. */
export interface IssuedApiToken extends ApiToken {
  token: string;
}

/** What creating a token may set: a name (default `default`) and an expiry in the future. */
export interface CreateApiTokenInput {
  name?: string;
  /** RFC 3339 instant, in the future. */
  expires_at?: string;
}

function toApiToken(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    expires_at: row.expires_at?.toISOString() ?? null,
  };
}

function userNotFound(userId: string): HttpProblem {
  return new HttpProblem(404, { detail: `user ${JSON.stringify(userId)} does not exist` });
}

/**
 * Issues a token for an existing user (admin, or the user for themself); 404 for an unknown user. Older
 * tokens keep working until revoked or expired.
 *
 * @example
 *   const { token, id } = await issueApiToken(db, '42', { name: 'ci', expires_at: '2027-01-01T00:00:00Z' });
 */
export async function issueApiToken(
  db: AppletsDatabase,
  userId: string,
  input: CreateApiTokenInput = {},
): Promise<IssuedApiToken> {
  const user = isDatabaseId(userId) ? await findUserById(db, userId) : undefined;
  if (user === undefined) throw userNotFound(userId);
  const token = generateApiToken();
  const row = await insertApiToken(db, user.id, hashApiToken(token), {
    name: input.name,
    expiresAt: input.expires_at === undefined ? null : new Date(input.expires_at),
  });
  return { token, ...toApiToken(row) };
}

/**
 * A user's tokens, newest first (expired ones too, until revoked), without secrets.
 *
 * @example
 *   res.json({ data: await listUserTokens(db, userId) });
 */
export async function listUserTokens(db: AppletsDatabase, userId: string): Promise<ApiToken[]> {
  return (await listApiTokens(db, userId)).map(toApiToken);
}

/**
 * Revokes one of the user's tokens: it gets 401 from its next request on. 404 when the user has no token
 * with that id (another user's token included).
 *
 * @example
 *   await revokeUserToken(db, userId, req.params.id);
 */
export async function revokeUserToken(db: AppletsDatabase, userId: string, tokenId: string): Promise<void> {
  if (!isDatabaseId(tokenId) || !(await deleteApiToken(db, userId, tokenId))) {
    throw new HttpProblem(404, { detail: `token ${JSON.stringify(tokenId)} does not exist` });
  }
}

/**
 * Revokes every token of a user (admin); 404 for an unknown user. Resolves how many were revoked.
 *
 * @example
 *   const revoked = await revokeAllUserTokens(db, '42'); // 3
 */
export async function revokeAllUserTokens(db: AppletsDatabase, userId: string): Promise<number> {
  const user = isDatabaseId(userId) ? await findUserById(db, userId) : undefined;
  if (user === undefined) throw userNotFound(userId);
  return deleteApiTokensOfUser(db, user.id);
}

/**
 * Resolves a bearer token to its user's id; `undefined` when the token is unknown, revoked or expired (no
 * cache: a revocation holds from the next request). Records the use (at most once a minute).
 *
 * @example
 *   const userId = await authenticateApiToken(db, bearer);
 */
export async function authenticateApiToken(db: AppletsDatabase, token: string): Promise<string | undefined> {
  const found = await findActiveApiToken(db, hashApiToken(token));
  if (found === undefined) return undefined;
  if (found.last_used_at === null || Date.now() - found.last_used_at.getTime() > 60_000) {
    await touchApiToken(db, found.id);
  }
  return found.user_id;
}
