import type { RequestHandler, Response } from 'express';
import { bearerUnauthorized, readBearerToken, releasePreAuthAttempt } from '@ittd/platform';
import type { AppletsDatabase } from '../data/database';
import { authenticateApiToken } from '../domain/api-tokens';

/**
 * Authenticates a user's API token and keeps the user id in `res.locals.userId` for the routes after it.
 * Missing, unknown, revoked or expired token: 401 with `WWW-Authenticate: Bearer`. Mount it after the
 * platform's `preAuthRateLimit`: a valid token gives its unit of the address's budget back, so only bad
 * ever reach the limit, and over it no lookup is made.
 *
 * @example
 *   router.use(preAuthRateLimit({ redis, limit, keyPrefix }), userAuthMiddleware(db));
 *   router.get('/applets', (req, res) => listApplets(db, authenticatedUserId(res), ...));
 */
export function userAuthMiddleware(db: AppletsDatabase): RequestHandler {
  return async (req, res, next) => {
    const token = readBearerToken(req);
    if (token === undefined) throw bearerUnauthorized();
    const userId = await authenticateApiToken(db, token);
    if (userId === undefined) throw bearerUnauthorized('invalid_token');
    await releasePreAuthAttempt(res);
    res.locals.userId = userId;
    next();
  };
}

/**
 * The user id `userAuthMiddleware` stored; throws if a route was mounted without it (a wiring bug).
 *
 * @example
 *   const userId = authenticatedUserId(res);
 */
export function authenticatedUserId(res: Response): string {
  const userId: unknown = res.locals.userId;
  if (typeof userId !== 'string') throw new Error('route needs userAuthMiddleware in front of it');
  return userId;
}
