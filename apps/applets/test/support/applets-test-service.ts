import { randomBytes } from 'node:crypto';
import { generateKeyringEntry, SecretKeyring, startService, type Topic } from '@ittd/platform';
import { createTestDatabase, testRedisUrl, uniqueKeyPrefix } from '@ittd/platform/testing';
import { Redis } from 'ioredis';
import { sql, type Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import { appletsService } from '../../src/applets-service';
import type { DB } from '../../src/data/database';

/** A running applets service on its own database and Redis key prefix, plus helpers to call it. */
export interface AppletsTestService {
  url: string;
  /** The service's database URL (for pg_dump and the CLI). */
  databaseUrl: string;
  /** The env the service was started with (to start the CLI or a second instance on the same database). */
  env: Record<string, string>;
  db: Kysely<DB>;
  redis: Redis;
  adminToken: string;
  redisKeyPrefix: string;
  /** The EVENTS_PREFIX of this service (unique per test file): its topic streams live under it. */
  eventsPrefix: string;
  /** The keys sealing stored partner keys (SECRETS_KEYS of this service). */
  keyring: SecretKeyring;
  /** The engine's event keys (EVENTS_SECRETS_KEYS): open `service_key_sealed` of partner-service.changed. */
  eventKeys: SecretKeyring;
  /** The service's metrics registry (events_delivered_total tells when a subscription handled an event). */
  metrics: Registry;
  /** The events this service published on a topic, oldest first, with their request ids. */
  outbox<T>(topic: Topic<T>): Promise<{ event: T; requestId: string | null }[]>;
  /** `fetch` against the service with an optional bearer token and JSON body (or raw JSON text). */
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; rawJson?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: unknown; text: string }>;
  /** Creates a user through the admin API; returns its id and API token. */
  createUser(name: string): Promise<{ id: string; token: string }>;
  /** Registers a partner service through the admin API. */
  registerService(slug: string): Promise<void>;
  /** Rows in one of the service's tables (to check that a refused request wrote nothing). */
  countRows(table: 'users' | 'partner_services' | 'applets'): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts the real service (platform `startService`, migrations, port 0) against a fresh database and
 * the local Redis with a unique key prefix.
 *
 * @example
 *   const service = await startAppletsTestService();
 *   afterAll(() => service.stop());
 */
export async function startAppletsTestService(
  env: Record<string, string> = {},
  options: { logLines?: string[] } = {},
): Promise<AppletsTestService> {
  const database = await createTestDatabase('applets');
  const adminToken = randomBytes(24).toString('base64url');
  const redisKeyPrefix = uniqueKeyPrefix('applets');
  const eventsPrefix = uniqueKeyPrefix('applets-events');
  const secretsKeys = env.SECRETS_KEYS ?? generateKeyringEntry('applets-test');
  const eventSecretsKeys = env.EVENTS_SECRETS_KEYS ?? generateKeyringEntry('events-test');
  const serviceEnv: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    ADMIN_TOKEN: adminToken,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    EVENTS_PREFIX: eventsPrefix,
    SECRETS_KEYS: secretsKeys,
    EVENTS_SECRETS_KEYS: eventSecretsKeys,
    LOG_LEVEL: 'silent',
    DATABASE_POOL_MAX: '4',
    ...env,
  };
  const running = await startService(appletsService, {
    env: serviceEnv,
    port: 0,
    host: '127.0.0.1',
    // Collects every log line when asked (with LOG_LEVEL in env), to check what is never logged.
    logDestination:
      options.logLines === undefined
        ? undefined
        : { write: (line: string) => void options.logLines?.push(line) },
  });

  const request: AppletsTestService['request'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const body = options.rawJson ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed, text };
  };

  return {
    url: running.url,
    databaseUrl: database.url,
    env: serviceEnv,
    db: running.ctx.db,
    redis: running.ctx.redis,
    adminToken,
    redisKeyPrefix,
    eventsPrefix,
    keyring: SecretKeyring.fromSetting(secretsKeys),
    eventKeys: SecretKeyring.fromSetting(eventSecretsKeys),
    metrics: running.ctx.metrics,
    request,
    async outbox(topic) {
      const result = await sql<{ payload: never; request_id: string | null }>`
        select payload, request_id from platform_event_outbox where topic = ${topic.name} order by id`.execute(
        running.ctx.db,
      );
      return result.rows.map((row) => ({ event: row.payload, requestId: row.request_id }));
    },
    async countRows(table) {
      const row = await running.ctx.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
    async createUser(name) {
      const response = await request('POST', '/admin/users', { token: adminToken, body: { name } });
      if (response.status !== 201)
        throw new Error(`creating user ${name}: ${response.status} ${response.text}`);
      const created = response.body as { user: { id: string }; token: string };
      return { id: created.user.id, token: created.token };
    },
    async registerService(slug) {
      const response = await request('POST', '/admin/services', {
        token: adminToken,
        body: {
          slug,
          name: `Service ${slug}`,
          api_base_url: `https://${slug}.example.com`,
          service_key: `key-${slug}-${randomBytes(12).toString('hex')}`,
        },
      });
      if (response.status !== 201)
        throw new Error(`registering ${slug}: ${response.status} ${response.text}`);
    },
    async stop() {
      await running.stop();
      // After the stop, so no subscription recreates its group; the service's own client is closed by then.
      // Few keys per test file (rate-limit counters, topic streams, dead letters), so KEYS is fine here.
      const redis = new Redis(testRedisUrl());
      try {
        for (const prefix of [redisKeyPrefix, eventsPrefix]) {
          const keys = await redis.keys(`${prefix}*`);
          if (keys.length > 0) await redis.del(...keys);
        }
      } finally {
        redis.disconnect();
      }
      await database.drop();
    },
  };
}
