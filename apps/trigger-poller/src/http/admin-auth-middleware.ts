import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpProblem } from '@ittd/platform';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Guards the admin routes with the ADMIN_TOKEN from config (`Authorization: Bearer <token>`, RFC 6750).
 * Compares SHA-256 digests in constant time, so neither the token's content nor its length leaks through
 * timing. Missing or wrong token: 401 with a `WWW-Authenticate: Bearer` challenge.
 *
 * @example
 *   app.use('/admin', adminAuthMiddleware(config.ADMIN_TOKEN), adminRoutes(deps));
 */
export function adminAuthMiddleware(adminToken: string): RequestHandler {
  const expected = sha256(adminToken);
  return (req, _res, next) => {
    const token = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(req.get('authorization') ?? '')?.[1];
    if (token === undefined || !timingSafeEqual(sha256(token), expected)) {
      throw new HttpProblem(401, {
        detail: token === undefined ? 'A bearer token is required.' : 'The bearer token is not valid.',
        headers: {
          'WWW-Authenticate':
            token === undefined ? 'Bearer realm="ittd"' : 'Bearer realm="ittd", error="invalid_token"',
        },
      });
    }
    next();
  };
}
