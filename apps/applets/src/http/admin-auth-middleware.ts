import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { readBearerToken, unauthorized } from './bearer-token';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Guards the admin routes with the ADMIN_TOKEN from config. Compares SHA-256 digests in constant time,
 * so neither the token's content nor its length leaks through timing.
 *
 * @example
 *   router.use(adminAuthMiddleware(config.ADMIN_TOKEN));
 */
export function adminAuthMiddleware(adminToken: string): RequestHandler {
  const expected = sha256(adminToken);
  return (req, _res, next) => {
    const token = readBearerToken(req);
    if (token === undefined) throw unauthorized();
    if (!timingSafeEqual(sha256(token), expected)) throw unauthorized('invalid_token');
    next();
  };
}
