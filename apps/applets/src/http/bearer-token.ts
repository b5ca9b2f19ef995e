import type { Request } from 'express';
import { HttpProblem } from '@ittd/platform';

/**
 * Reads the token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 6750);
 * `undefined` when the header is missing or uses another scheme.
 *
 * @example
 *   const token = readBearerToken(req);
 */
export function readBearerToken(req: Request): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}

/**
 * The 401 for a missing or wrong token, with the `WWW-Authenticate: Bearer` challenge RFC 6750 asks for.
 *
 * @example
 *   if (userId === undefined) throw unauthorized('invalid_token');
 */
export function unauthorized(error?: 'invalid_token'): HttpProblem {
  return new HttpProblem(401, {
    detail: error ? 'The bearer token is not valid.' : 'A bearer token is required.',
    headers: {
      'WWW-Authenticate': error ? `Bearer realm="ittd", error="${error}"` : 'Bearer realm="ittd"',
    },
  });
}
