import { randomBytes } from 'node:crypto';
import {
  actionRunFinished,
  appletChanged,
  partnerServiceChanged,
  partnerServiceKeyContext,
  triggerEventRecorded,
  type ActionRunFinishedEvent,
  type AppletChangedEvent,
} from '@ittd/engine-events';
import {
  generateKeyringEntry,
  OutboxRelay,
  SecretKeyring,
  publish,
  runEventsMigrations,
  startService,
  subscribe,
  type RunningService,
  type Subscription,
  type Topic,
} from '@ittd/platform';
import { createTestDatabase, testRedisUrl, uniqueKeyPrefix, type TestDatabase } from '@ittd/platform/testing';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { actionsService } from '../../src/actions-service';
import type { configSchema } from '../../src/config';
import type { DB } from '../../src/data/database';

type ActionsService = RunningService<typeof configSchema, DB>;

/** An `action-run.finished` as the test's own subscription received it. */
export interface ReceivedFinished {
  event: ActionRunFinishedEvent;
  eventId: string;
  requestId: string | undefined;
}

/**
 * One test file's world: the actions web and worker processes on their own database and Redis prefixes, a
 * stand-in for the other services' outbox (a second database with the platform's events tables and a
 * relay, through which the test publishes applet, partner and trigger events exactly as applets and
 * trigger-poller do), a subscription collecting `action-run.finished`, and a fake partner.
 */
export interface ActionsTestEnv {
  web: ActionsService;
  worker: ActionsService;
  db: Kysely<DB>;
  redis: Redis;
  partner: FakePartner;
  adminToken: string;
  env: Record<string, string>;
  /** The engine's event keys (EVENTS_SECRETS_KEYS): what applets seals partner keys in events with. */
  eventKeys: SecretKeyring;
  finished: ReceivedFinished[];
  /** Publishes an event on a topic as another service would (committed outbox row, relayed). */
  publish<T>(topic: Topic<T>, event: T, requestId?: string): Promise<void>;
  /**
   * Publishes `partner-service.changed` for service `slug`: by default the fake partner's URL and key,
   * version 1.
   */
  publishPartner(
    slug: string,
    options?: { version?: number; serviceKey?: string; url?: string },
  ): Promise<void>;
  /** Publishes `applet.changed` (saved, enabled) with overrides; returns the event. */
  publishApplet(overrides: Partial<AppletChangedEvent> & { applet_id: string }): Promise<AppletChangedEvent>;
  /** Publishes `trigger-event.recorded`. */
  publishTriggerEvent(
    triggerIdentity: string,
    eventId: string,
    ingredients: Record<string, unknown>,
    requestId?: string,
    /** The event's `applets` (enabled when recorded, with versions); absent as in older events. */
    applets?: { applet_id: string; version: number }[],
  ): Promise<void>;
  /** Waits until the local applet copy has `version` (events are applied asynchronously). */
  appletVersion(appletId: string): Promise<number | undefined>;
  /** `GET` on the web process with the admin token (or `token`). */
  get(path: string, token?: string): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/**
 * Starts everything for one test file; `extraEnv` overrides the service settings.
 *
 * @example
 *   const t = await startActionsTestEnv({ PARTNER_RATE_LIMIT: '2' });
 *   afterAll(() => t.stop());
 */
export async function startActionsTestEnv(extraEnv: Record<string, string> = {}): Promise<ActionsTestEnv> {
  const database = await createTestDatabase('actions');
  const upstreamDatabase: TestDatabase = await createTestDatabase('actions_upstream');
  const adminToken = randomBytes(24).toString('base64url');
  const keyPrefix = uniqueKeyPrefix('actions');
  const eventsPrefix = uniqueKeyPrefix('actions-events');
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    ADMIN_TOKEN: adminToken,
    REDIS_KEY_PREFIX: keyPrefix,
    EVENTS_PREFIX: eventsPrefix,
    LOG_LEVEL: 'silent',
    DATABASE_POOL_MAX: '4',
    ACTION_RETRY_BASE_MS: '20',
    PARTNER_TIMEOUT_MS: '2000',
    // The fake partner listens on http://127.0.0.1: the local environment allows that (and only it).
    ENVIRONMENT: 'local',
    SECRETS_KEYS: generateKeyringEntry('actions-test'),
    EVENTS_SECRETS_KEYS: generateKeyringEntry('events-test'),
    ...extraEnv,
  };
  const eventKeys = SecretKeyring.fromSetting(env.EVENTS_SECRETS_KEYS);
  const partner = await startFakePartner();
  const web = await startService(actionsService, { env, port: 0, host: '127.0.0.1' });
  const worker = await startService(actionsService, { env, mode: 'worker', port: 0, host: '127.0.0.1' });

  const upstream = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: upstreamDatabase.url, max: 3 }) }),
  });
  await runEventsMigrations(upstream);
  const redis = new Redis(testRedisUrl(), { connectionName: 'actions-test' });
  const relay = new OutboxRelay({ db: upstream, redis, prefix: eventsPrefix, pollIntervalMs: 20 });
  await relay.start();
  const finished: ReceivedFinished[] = [];
  const collector: Subscription<ActionRunFinishedEvent> = subscribe(
    actionRunFinished,
    'test-applets',
    async (event, context) => {
      finished.push({ event, eventId: context.eventId, requestId: context.requestId });
    },
    { redis, prefix: eventsPrefix, blockMs: 100 },
  );
  await collector.start();

  const publishEvent: ActionsTestEnv['publish'] = async (topic, event, requestId) => {
    await upstream.transaction().execute((trx) => publish(trx, topic, event, { requestId }));
  };
  const request = async (path: string, token = adminToken): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${web.url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };

  return {
    web,
    worker,
    db: web.ctx.db,
    redis,
    partner,
    adminToken,
    env,
    eventKeys,
    finished,
    publish: publishEvent,
    async publishPartner(slug, options = {}) {
      await publishEvent(partnerServiceChanged, {
        slug,
        version: options.version ?? 1,
        name: `Fake ${slug}`,
        api_base_url: options.url ?? partner.url,
        service_key_sealed: eventKeys.seal(
          options.serviceKey ?? partner.serviceKey,
          partnerServiceKeyContext(slug),
        ),
        changed_at: new Date().toISOString(),
      });
    },
    async publishApplet(overrides) {
      const event: AppletChangedEvent = {
        version: 1,
        change: 'saved',
        enabled: true,
        disabled_reason: null,
        user: { id: 'user-1', timezone: 'Europe/Berlin' },
        trigger: { service: 'weather', slug: 'rain', fields: { city: 'Berlin' }, trigger_identity: 'ti-1' },
        action: { service: 'fake', slug: 'post_message', fields: { text: 'Rain in {{City}}' } },
        changed_at: new Date().toISOString(),
        ...overrides,
      };
      await publishEvent(appletChanged, event);
      return event;
    },
    async publishTriggerEvent(triggerIdentity, eventId, ingredients, requestId, applets) {
      await publishEvent(
        triggerEventRecorded,
        {
          trigger_identity: triggerIdentity,
          service: 'weather',
          trigger: 'rain',
          event_id: eventId,
          ingredients,
          occurred_at: '2026-11-30T09:00:00.000Z',
          recorded_at: new Date().toISOString(),
          ...(applets ? { applets } : {}),
        },
        requestId,
      );
    },
    async appletVersion(appletId) {
      const row = await web.ctx.db
        .selectFrom('applets')
        .select('version')
        .where('applet_id', '=', appletId)
        .executeTakeFirst();
      return row?.version;
    },
    get: request,
    async stop() {
      await worker.stop();
      await web.stop();
      await collector.stop();
      await relay.stop();
      await partner.close();
      for (const prefix of [keyPrefix, eventsPrefix]) {
        let cursor = '0';
        do {
          const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          if (found.length > 0) await redis.del(...found);
          cursor = next;
        } while (cursor !== '0');
      }
      await redis.quit();
      await upstream.destroy();
      await upstreamDatabase.drop();
      await database.drop();
    },
  };
}

export { waitFor } from '@ittd/platform/testing';
