import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpProblem, readBearerToken } from '@ittd/platform';
import type { Request, RequestHandler } from 'express';
import type { PartnerSandboxDatabase } from '../data/database';
import { findUser } from '../data/user-repository';
import { userIdOfToken } from '../domain/access-token';

/** Who a Service API call may come from (IFTTT Service API security: `serviceAuth`, `userAuth`). */
export type CallerRule =
  /** The service key is required (status, test setup). */
  | 'service'
  /** The service key or a user's bearer token (triggers, actions, fields). */
  | 'service-or-user'
  /** A user's bearer token is required (user info). */
  | 'user';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The key of a call: `IFTTT-Service-Key`, or `IFTTT-Channel-Key` as older IFTTT calls send it. */
function readServiceKey(req: Request): string | undefined {
  return req.get('ifttt-service-key') ?? req.get('ifttt-channel-key');
}

function unauthorized(detail: string): HttpProblem {
  return new HttpProblem(401, { detail, headers: { 'WWW-Authenticate': 'Bearer realm="partner-sandbox"' } });
}

/**
 * Guards Service API routes: every credential a call carries must be valid (a wrong service key, or a bearer
 * token that is not a sandbox user's, is a 401 even beside a valid other one), and the `rule` says which
 * one it needs. The user of a valid token is `res.locals.userId`. Keys are compared as SHA-256 digests in
 * constant time.
 *
 * @throws HttpProblem 401 (answered as a Service API `ErrorResponse`).
 * @example
 *   router.get('/user/info', serviceApiAuth(db, serviceKey, 'user'), handler);
 */
export function serviceApiAuth(
  db: PartnerSandboxDatabase,
  serviceKey: string,
  rule: CallerRule,
): RequestHandler {
  const expectedKey = sha256(serviceKey);
  return async function authenticate(req, res, next) {
    const key = readServiceKey(req);
    const keyValid = key !== undefined && timingSafeEqual(sha256(key), expectedKey);
    if (key !== undefined && !keyValid) throw unauthorized('The IFTTT-Service-Key is not valid.');
    const hasAuthorization = req.get('authorization') !== undefined;
    if (hasAuthorization && rule !== 'service') {
      const token = readBearerToken(req);
      const userId = token === undefined ? undefined : userIdOfToken(serviceKey, token);
      if (userId === undefined || (await findUser(db, userId)) === undefined) {
        throw unauthorized('The bearer token is not valid.');
      }
      res.locals.userId = userId;
    }
    if (rule === 'service' && !keyValid) throw unauthorized('The IFTTT-Service-Key header is required.');
    if (rule === 'user' && res.locals.userId === undefined) throw unauthorized('A bearer token is required.');
    if (rule === 'service-or-user' && !keyValid && res.locals.userId === undefined) {
      throw unauthorized('The IFTTT-Service-Key header or a bearer token is required.');
    }
    next();
  };
}
