import { Kysely, PostgresDialect } from 'kysely';
import { Redis } from 'ioredis';
import pg from 'pg';
import { z } from 'zod';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database';
import { testRedisUrl, uniqueKeyPrefix } from '../../testing/test-redis';
import { runEventsMigrations } from '../events-migrations';
import { defineTopic } from '../topic';

/** The topic the tests and the crash fixture publish and consume. */
export const orderPlaced = defineTopic(
  'order.placed',
  z.object({ n: z.number().int(), note: z.string().optional() }),
);

/** A migrated test database, a Redis client and a unique key prefix; `close()` removes all of it. */
export interface EventsTestEnv {
  database: TestDatabase;
  db: Kysely<unknown>;
  redis: Redis;
  prefix: string;
  /** Another Kysely on the same database (a second replica's pool). */
  openDb(): Kysely<unknown>;
  /** Deletes every Redis key under the prefix (streams, groups, dead letters). */
  clearRedis(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the test Postgres and Redis for one spec file.
 *
 * @example
 * let t: EventsTestEnv;
 * beforeAll(async () => { t = await openEventsTestEnv('events'); });
 * afterAll(() => t.close());
 */
export async function openEventsTestEnv(name: string): Promise<EventsTestEnv> {
  const database = await createTestDatabase(name);
  const opened: Kysely<unknown>[] = [];
  const openDb = (): Kysely<unknown> => {
    const db = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 5 }) }),
    });
    opened.push(db);
    return db;
  };
  const db = openDb();
  await runEventsMigrations(db);
  const redis = new Redis(testRedisUrl(), { connectionName: `test-${name}` });
  const prefix = uniqueKeyPrefix(name);
  const clearRedis = async (): Promise<void> => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  };
  return {
    database,
    db,
    redis,
    prefix,
    openDb,
    clearRedis,
    async close() {
      await clearRedis();
      await redis.quit();
      for (const each of opened) await each.destroy();
      await database.drop();
    },
  };
}

export { waitFor } from '../../testing/eventually';

/**
 * Runs `relay.relayOnce()` until it relays `expected` rows in all, or throws (its error is passed on), within
 * `timeoutMs`. Why not one pass: the relay takes a row only once every transaction that started before it
 * has ended, and transaction ids are per Postgres server, so a transaction of another test file running at
 * the same time (a migration, a long test transaction) holds rows back for a while. Returns the count relayed.
 *
 * @example
 * expect(await relayUntil(relay, 2)).toBe(2);
 */
export async function relayUntil(
  relay: { relayOnce(): Promise<number> },
  expected: number,
  timeoutMs = 15_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let relayed = await relay.relayOnce();
  while (relayed < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    relayed += await relay.relayOnce();
  }
  return relayed;
}
