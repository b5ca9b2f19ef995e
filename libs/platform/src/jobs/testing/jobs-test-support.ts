import { Redis } from 'ioredis';
import { testRedisUrl, uniqueKeyPrefix } from '../../testing/test-redis';

/** A Redis client for one test file and the unique key prefix that isolates it from parallel files. */
export interface JobsTestRedis {
  redis: Redis;
  prefix: string;
  /** Deletes every key under the prefix and closes the client. */
  close(): Promise<void>;
}

/**
 * Connects to the test Redis (127.0.0.1:6379 unless TEST_REDIS_URL) under a fresh prefix.
 *
 * @example
 * const t = await openTestRedis('jobs-queue');
 * afterAll(() => t.close());
 */
export async function openTestRedis(name: string): Promise<JobsTestRedis> {
  const redis = new Redis(testRedisUrl(), { connectionName: `test-${name}` });
  await redis.ping();
  const prefix = uniqueKeyPrefix(name);
  return {
    redis,
    prefix,
    async close() {
      await deleteKeys(redis, `${prefix}*`);
      await redis.quit();
    },
  };
}

/** Deletes keys matching `pattern` with SCAN (never KEYS, which blocks a shared Redis). */
export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Polls `condition` every `everyMs` until it holds; throws after `timeoutMs` with `what` in the message. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 15_000, everyMs = 20 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
