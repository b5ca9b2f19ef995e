import { createHash, randomBytes } from 'node:crypto';

/** Prefix of every API token, so a leaked token is recognisable (secret scanners, logs). */
const TOKEN_PREFIX = 'ittd_';

/**
 * Generates a new bearer API token: 32 random bytes, base64url, with a recognisable prefix. The token is
 * shown once to its owner and only its hash is stored.
 *
 * @example
 *   const token = generateApiToken(); // 'ittd_q3J…' (48 chars)
 */
export function generateApiToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Hashes a token for storage and lookup. SHA-256 suffices because tokens carry 256 bits of entropy:
 * there is nothing to brute-force, unlike a password.
 *
 * @example
 *   await insertApiToken(db, userId, hashApiToken(token));
 */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
