import type { Request, Response } from 'express';
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
 * The header is set on `res` because the platform's problem answer carries no headers of its own.
 *
 * @example
 *   if (userId === undefined) throw unauthorized(res, 'invalid_token');
 */
export function unauthorized(res: Response, error?: 'invalid_token'): HttpProblem {
  res.setHeader('WWW-Authenticate', error ? `Bearer realm="ittd", error="${error}"` : 'Bearer realm="ittd"');
  return new HttpProblem(401, {
    detail: error ? 'The bearer token is not valid.' : 'A bearer token is required.',
  });
}
