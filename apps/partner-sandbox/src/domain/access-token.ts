import { createHmac, timingSafeEqual } from 'node:crypto';

/** A user id: what the sandbox accepts in `POST /control/users` and finds in a token. */
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

function mac(serviceKey: string, userId: string): string {
  return createHmac('sha256', serviceKey).update(`user:${userId}`).digest('base64url');
}

/**
 * The bearer token of a user: `<user id>.<HMAC-SHA256 of the id under the service key>`, so every replica
 * checks it without storing it, and changing SERVICE_KEY revokes every token. A sandbox's token stands in for
 * the OAuth2 access token a real partner issues.
 *
 * @example
 *   accessTokenFor('sk_…', 'sandbox-user'); // 'sandbox-user.Xh3…'
 */
export function accessTokenFor(serviceKey: string, userId: string): string {
  return `${userId}.${mac(serviceKey, userId)}`;
}

/**
 * The user id a token was issued for, or `undefined` when the token is not one of ours (compared in
 * constant time).
 *
 * @example
 *   userIdOfToken('sk_…', accessTokenFor('sk_…', 'u1')); // 'u1'
 */
export function userIdOfToken(serviceKey: string, token: string): string | undefined {
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const userId = token.slice(0, dot);
  if (!USER_ID_PATTERN.test(userId)) return undefined;
  const expected = Buffer.from(mac(serviceKey, userId));
  const given = Buffer.from(token.slice(dot + 1));
  return given.length === expected.length && timingSafeEqual(given, expected) ? userId : undefined;
}
