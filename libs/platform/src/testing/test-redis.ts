import { randomBytes } from 'node:crypto';

/** The Redis tests use (local only). */
export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/**
 * A unique key prefix per test file, so files share one Redis without seeing each other's keys.
 * Clean up with `SCAN MATCH <prefix>*` + `DEL` in `afterAll`.
 *
 * @example
 * const prefix = uniqueKeyPrefix('jobs'); // 'test:jobs:3f9a1c2b:'
 */
export function uniqueKeyPrefix(name = 'test'): string {
  return `test:${name}:${randomBytes(4).toString('hex')}:`;
}
