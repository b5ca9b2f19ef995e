import { HttpProblem } from '@ittd/platform';
import type { AppletsDatabase } from '../data/database';
import { bumpAppletVersionsOfUser } from '../data/applet-repository';
import {
  insertApiToken,
  insertUser,
  lockUserById,
  updateUserTimezone,
  type UserRow,
} from '../data/user-repository';
import { publishAppletChanged } from './applet-events';
import { generateApiToken, hashApiToken } from './api-token';
import { isDatabaseId } from './database-id';
import type { PublishContext } from './publish-context';

/**
 * A user as the admin API shows it. `timezone` is an IANA zone name, sent to partners as `user.timezone`.
 *
 * @example
 *   { id: '1', name: 'ada', timezone: 'Europe/Berlin', created_at: '2026-11-30T10:00:00.000Z' }
 */
export interface User {
  id: string;
  name: string;
  timezone: string;
  created_at: string;
}

/** A new user and the plain API token, which is shown this once and stored only as a hash. */
export interface CreatedUser {
  user: User;
  token: string;
}

/** What creating a user needs: a unique name and optionally a canonical time zone (default `UTC`). */
export interface CreateUserInput {
  name: string;
  timezone?: string;
}

/** What changing a user may set. */
export interface UpdateUserInput {
  timezone?: string;
}

function toUser(row: UserRow): User {
  return { id: row.id, name: row.name, timezone: row.timezone, created_at: row.created_at.toISOString() };
}

function userNotFound(userId: string): HttpProblem {
  return new HttpProblem(404, { detail: `user ${JSON.stringify(userId)} does not exist` });
}

/**
 * Creates a user with a first API token, in one transaction; 409 when the name is taken.
 *
 * @example
 *   const { user, token } = await createUserWithToken(db, { name: 'ada', timezone: 'Europe/Berlin' });
 */
export async function createUserWithToken(db: AppletsDatabase, input: CreateUserInput): Promise<CreatedUser> {
  const { name } = input;
  return db.transaction().execute(async (trx) => {
    const user = await insertUser(trx, name, input.timezone);
    if (user === undefined) {
      throw new HttpProblem(409, {
        detail: `user "${name}" already exists`,
        errors: [{ name: 'name', reason: 'already taken' }],
      });
    }
    const token = generateApiToken();
    await insertApiToken(trx, user.id, hashApiToken(token));
    return { user: toUser(user), token };
  });
}

/**
 * Changes a user (today: the time zone). A changed time zone re-publishes `applet.changed` (`saved`, next
 * version) for every applet of the user in the same transaction, since subscribers send `user.timezone` to
 * partners. The user row is locked first; an applet created meanwhile share-locks it, so it either waits
 * and publishes the new zone or is bumped here. 404 for an unknown user.
 *
 * @example
 *   const user = await updateUser(db, '42', { timezone: 'Europe/Berlin' }, { requestId: req.id });
 */
export async function updateUser(
  db: AppletsDatabase,
  userId: string,
  input: UpdateUserInput,
  publishing: PublishContext = {},
): Promise<User> {
  if (!isDatabaseId(userId)) throw userNotFound(userId);
  return db.transaction().execute(async (trx) => {
    const current = await lockUserById(trx, userId, 'update');
    if (current === undefined) throw userNotFound(userId);
    const timezone = input.timezone;
    if (timezone === undefined || timezone === current.timezone) return toUser(current);
    const updated = await updateUserTimezone(trx, userId, timezone);
    if (updated === undefined) throw userNotFound(userId);
    for (const applet of await bumpAppletVersionsOfUser(trx, userId)) {
      await publishAppletChanged(trx, applet, timezone, 'saved', publishing);
    }
    return toUser(updated);
  });
}
