import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { HttpProblem } from './http-problem';

/** The token of an `Authorization: Bearer` header: RFC 6750's b64token. */
const BEARER_HEADER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Reads the token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 6750);
 * `undefined` when the header is missing, malformed or uses another scheme. For middleware that looks the
 * token up itself (per-user API tokens); a single shared secret takes {@link requireBearerToken}.
 *
 * @example
 * const token = readBearerToken(req);
 * if (token === undefined) throw bearerUnauthorized();
 * const userId = await findUserByToken(db, token);
 * if (userId === undefined) throw bearerUnauthorized('invalid_token');
 */
export function readBearerToken(req: Request): string | undefined {
  return BEARER_HEADER.exec(req.get('authorization') ?? '')?.[1];
}

/**
 * The 401 for a missing (no argument) or wrong (`'invalid_token'`) bearer token, with the
 * `WWW-Authenticate: Bearer realm="ittd"` challenge RFC 6750 asks for. It never echoes the token.
 *
 * @example
 * throw bearerUnauthorized('invalid_token');
 * // 401, WWW-Authenticate: Bearer realm="ittd", error="invalid_token"
 */
export function bearerUnauthorized(error?: 'invalid_token'): HttpProblem {
  return new HttpProblem(401, {
    detail: error ? 'The bearer token is not valid.' : 'A bearer token is required.',
    headers: {
      'WWW-Authenticate': error ? `Bearer realm="ittd", error="${error}"` : 'Bearer realm="ittd"',
    },
  });
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Guards routes with one shared secret (an operator's ADMIN_TOKEN from config) sent as
 * `Authorization: Bearer <token>`. Missing or wrong token: 401 from {@link bearerUnauthorized}. SHA-256
 * digests are compared in constant time, so neither the token's content nor its length leaks through
 * timing; the token is never logged nor put in an answer. Throws at once if `expected` is empty.
 *
 * @example
 * app.use('/admin', requireBearerToken(ctx.config.ADMIN_TOKEN), adminRoutes(ctx.db));
 */
export function requireBearerToken(expected: string): RequestHandler {
  if (expected === '') throw new Error('requireBearerToken needs a non-empty token');
  const expectedDigest = sha256(expected);
  return function bearerTokenAuth(req, _res, next) {
    const token = readBearerToken(req);
    if (token === undefined) throw bearerUnauthorized();
    if (!timingSafeEqual(sha256(token), expectedDigest)) throw bearerUnauthorized('invalid_token');
    next();
  };
}
