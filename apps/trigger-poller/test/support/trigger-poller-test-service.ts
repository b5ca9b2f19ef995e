import { createHash, randomBytes } from 'node:crypto';
import { generateKeyringEntry, JobQueue, startService, type RunningService } from '@ittd/platform';
import { createTestDatabase, testRedisUrl, uniqueKeyPrefix } from '@ittd/platform/testing';
import type { Redis } from 'ioredis';
import { sql, type Kysely } from 'kysely';
import type { configSchema } from '../../src/config';
import type { DB } from '../../src/data/database';
import { POLL_QUEUE, type PollDependencies } from '../../src/jobs/poll-trigger-job';
import { PartnerConcurrency } from '../../src/partner/partner-concurrency';
import { partnerSecurity } from '@ittd/platform';
import { triggerPollerService } from '../../src/trigger-poller-service';
import type { TriggerPollerContext } from '../../src/trigger-poller-context';

/** An HTTP answer as the tests read it. */
export interface TestResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** A running trigger poller (web) on its own database and Redis key prefix, plus helpers to call it. */
export interface TriggerPollerTestService {
  url: string;
  ctx: TriggerPollerContext;
  db: Kysely<DB>;
  redis: Redis;
  adminToken: string;
  /** The env both processes run with (run-job child processes too). */
  env: Record<string, string>;
  /**
   * `fetch` against the web process, with an optional bearer token, headers and JSON body (or raw JSON text,
   * for bodies `JSON.stringify` cannot write).
   */
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; rawJson?: string; headers?: Record<string, string> },
  ): Promise<TestResponse>;
  /** `PUT /admin/partners/:slug` with the partner's URL and key; throws unless 200/201. */
  putPartner(slug: string, partner: { url: string; serviceKey: string }): Promise<TestResponse>;
  /**
   * `PUT /admin/partners/:slug` then `PUT /admin/subscriptions/:id` referencing it; throws unless 200/201.
   * The partner's slug is `overrides.service_slug`, else one derived from its URL and key (so two keys of
   * one fake are two partners).
   */
  subscribe(
    triggerIdentity: string,
    partner: { url: string; serviceKey: string },
    overrides?: Record<string, unknown>,
  ): Promise<TestResponse>;
  /** Trigger identities of the poll jobs waiting in the queue (ready or delayed), sorted. */
  waitingPolls(): Promise<string[]>;
  /** The event ids stored for one trigger identity, sorted. */
  storedEventIds(triggerIdentity: string): Promise<string[]>;
  /** The trigger identities of every stored subscription, sorted. */
  storedSubscriptionIds(): Promise<string[]>;
  /** Starts the worker process of the same service in this process (stopped by `stop()`). */
  startWorker(env?: Record<string, string>): Promise<RunningService<typeof configSchema, DB>>;
  stop(): Promise<void>;
}

/**
 * Starts the real service (platform `startService`, migrations, port 0) against a fresh database and the
 * local Redis with a unique key prefix.
 *
 * @example
 *   const service = await startTriggerPollerTestService({ POLL_RETRY_BASE_MS: '50' });
 *   afterAll(() => service.stop());
 */
export async function startTriggerPollerTestService(
  extraEnv: Record<string, string> = {},
): Promise<TriggerPollerTestService> {
  const database = await createTestDatabase('trigger_poller');
  const adminToken = randomBytes(24).toString('base64url');
  const prefix = uniqueKeyPrefix('trigger-poller');
  const env = {
    EVENTS_PREFIX: `${prefix}events:`,
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    ADMIN_TOKEN: adminToken,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    DATABASE_POOL_MAX: '4',
    // The fake partners listen on http://127.0.0.1: the local environment allows that (and only it).
    ENVIRONMENT: 'local',
    SECRETS_KEYS: generateKeyringEntry('trigger-poller-test'),
    EVENTS_SECRETS_KEYS: generateKeyringEntry('events-test'),
    ...extraEnv,
  };
  const web = await startService(triggerPollerService, { env, port: 0, host: '127.0.0.1' });
  const workers: RunningService<typeof configSchema, DB>[] = [];

  const request: TriggerPollerTestService['request'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const body = options.rawJson ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${web.url}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : JSON.parse(text),
      text,
    };
  };

  const putPartner: TriggerPollerTestService['putPartner'] = async (slug, partner) => {
    const response = await request('PUT', `/admin/partners/${slug}`, {
      token: adminToken,
      body: { api_base_url: partner.url, service_key: partner.serviceKey },
    });
    if (response.status !== 200 && response.status !== 201) {
      throw new Error(`putting partner ${slug}: ${response.status} ${response.text}`);
    }
    return response;
  };

  return {
    url: web.url,
    ctx: web.ctx,
    db: web.ctx.db,
    redis: web.ctx.redis,
    adminToken,
    env,
    request,
    async storedSubscriptionIds() {
      const rows = await web.ctx.db.selectFrom('trigger_subscriptions').select('trigger_identity').execute();
      return rows.map((row) => row.trigger_identity).sort();
    },
    async storedEventIds(triggerIdentity) {
      const rows = await web.ctx.db
        .selectFrom('trigger_events')
        .select('event_id')
        .where('trigger_identity', '=', triggerIdentity)
        .orderBy('event_id')
        .execute();
      return rows.map((row) => row.event_id);
    },
    putPartner,
    async subscribe(triggerIdentity, partner, overrides = {}) {
      const slug = typeof overrides.service_slug === 'string' ? overrides.service_slug : partnerSlug(partner);
      await putPartner(slug, partner);
      const response = await request('PUT', `/admin/subscriptions/${triggerIdentity}`, {
        token: adminToken,
        body: {
          service_slug: slug,
          trigger_slug: 'new_thing',
          trigger_fields: { city: 'Berlin' },
          user_id: 'user-1',
          ...overrides,
        },
      });
      if (response.status !== 200 && response.status !== 201) {
        throw new Error(`subscribing ${triggerIdentity}: ${response.status} ${response.text}`);
      }
      return response;
    },
    async waitingPolls() {
      const waiting = await new JobQueue({ redis: web.ctx.redis, prefix: `${prefix}jobs:` }).listWaiting(
        POLL_QUEUE,
      );
      return waiting.map((job) => (job.payload as { trigger_identity: string }).trigger_identity).sort();
    },
    async startWorker(workerEnv = {}) {
      const worker = await startService(triggerPollerService, {
        env: { ...env, ...workerEnv },
        mode: 'worker',
        port: 0,
        host: '127.0.0.1',
      });
      workers.push(worker);
      return worker;
    },
    async stop() {
      for (const worker of workers) await worker.stop();
      let cursor = '0';
      do {
        const [next, found] = await web.ctx.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (found.length > 0) await web.ctx.redis.del(...found);
        cursor = next;
      } while (cursor !== '0');
      await web.stop();
      await database.drop();
    },
  };
}

/**
 * The slug the test helpers give a partner: `p_` and 12 hex digits of the SHA-256 of its URL and key.
 *
 * @example
 *   partnerSlug(partner); // 'p_3f0a9c…'
 */
export function partnerSlug(partner: { url: string; serviceKey: string }): string {
  return `p_${createHash('sha256').update(`${partner.url} ${partner.serviceKey}`).digest('hex').slice(0, 12)}`;
}

/**
 * Polls `condition` every 25 ms until it holds; throws after `timeoutMs` naming `what`.
 *
 * @example
 *   await waitFor('events stored', async () => (await countEvents()) === 3);
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Poll dependencies on the test service's database with test-friendly defaults (50 events, 5 s time-out,
 * 1 MiB answers, a 300 s interval, 60 s..6 h backoff, 5 calls per partner); `overrides` replace any.
 *
 * @example
 *   const deps = pollDependencies(service, { eventLimit: 2 });
 */
export function pollDependencies(
  service: TriggerPollerTestService,
  overrides: Partial<PollDependencies> = {},
): PollDependencies {
  return {
    db: service.db,
    logger: service.ctx.logger,
    eventLimit: 50,
    timeoutMs: 5000,
    maxAnswerBytes: 1_048_576,
    intervalSeconds: 300,
    backoff: { baseSeconds: 60, maxSeconds: 21_600 },
    partnerConcurrency: new PartnerConcurrency(5),
    keyring: partnerSecurity(service.ctx).keyring,
    urlPolicy: partnerSecurity(service.ctx).urlPolicy,
    ...overrides,
  };
}

/** The `trigger-event.recorded` events in the outbox (published, relayed or not), oldest first. */
export async function publishedTriggerEvents(
  service: TriggerPollerTestService,
): Promise<{ payload: Record<string, unknown>; request_id: string | null }[]> {
  const result = await sql<{ payload: Record<string, unknown>; request_id: string | null }>`
    select payload, request_id from platform_event_outbox where topic = 'trigger-event.recorded'
    order by tx_id, id`.execute(service.db);
  return result.rows;
}
