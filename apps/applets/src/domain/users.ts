import { HttpProblem } from '@ittd/platform';
import type { AppletsDatabase } from '../data/database';
import { findUserById, findUserIdByTokenSha256, insertApiToken, insertUser } from '../data/user-repository';
import { generateApiToken, hashApiToken } from './api-token';
import { isDatabaseId } from './database-id';

/** A new user and the plain API token, which is shown this once and stored only as a hash. */
export interface CreatedUser {
  user: { id: string; name: string; created_at: string };
  token: string;
}

/**
 * Creates a user with a first API token, in one transaction; 409 when the name is taken.
 *
 * @example
 *   const { user, token } = await createUserWithToken(db, 'ada');
 */
export async function createUserWithToken(db: AppletsDatabase, name: string): Promise<CreatedUser> {
  return db.transaction().execute(async (trx) => {
    const user = await insertUser(trx, name);
    if (user === undefined) {
      throw new HttpProblem(409, {
        detail: `user "${name}" already exists`,
        errors: [{ name: 'name', reason: 'already taken' }],
      });
    }
    const token = generateApiToken();
    await insertApiToken(trx, user.id, hashApiToken(token));
    return { user: { id: user.id, name: user.name, created_at: user.created_at.toISOString() }, token };
  });
}

/**
 * Issues another API token for an existing user (rotation: old tokens keep working until deleted);
 * 404 for an unknown user.
 *
 * @example
 *   const token = await issueApiToken(db, '42');
 */
export async function issueApiToken(db: AppletsDatabase, userId: string): Promise<string> {
  const user = isDatabaseId(userId) ? await findUserById(db, userId) : undefined;
  if (user === undefined)
    throw new HttpProblem(404, { detail: `user ${JSON.stringify(userId)} does not exist` });
  const token = generateApiToken();
  await insertApiToken(db, user.id, hashApiToken(token));
  return token;
}

/**
 * Resolves a bearer token to its user's id; `undefined` when the token is unknown.
 *
 * @example
 *   const userId = await authenticateApiToken(db, bearer);
 */
export async function authenticateApiToken(db: AppletsDatabase, token: string): Promise<string | undefined> {
  return findUserIdByTokenSha256(db, hashApiToken(token));
}
