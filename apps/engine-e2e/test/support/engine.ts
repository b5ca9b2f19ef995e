import { randomBytes } from 'node:crypto';
import {
  generateKeyringEntry,
  startService,
  type ConfigSchema,
  type RunningService,
  type ServiceDefinition,
} from '@ittd/platform';
import { createTestDatabase, testRedisUrl, uniqueKeyPrefix, type TestDatabase } from '@ittd/platform/testing';
import { actionsService } from '@ittd/actions/src/actions-service';
import { appletsService } from '@ittd/applets/src/applets-service';
import { triggerPollerService } from '@ittd/trigger-poller/src/trigger-poller-service';
import { Redis } from 'ioredis';
import type { Express } from 'express';
import type { Kysely } from 'kysely';

/** An HTTP answer as the tests read it. */
export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** One service's API: JSON requests with a bearer token (or other headers). */
export interface ServiceApi {
  url: string;
  adminToken: string;
  /**
   * The service's own database, for reading state no API shows (that a copy caught up with an event, so a
   * "nothing happens" check has a point to wait for). Tests never write through it.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service's schema is its own
  db: Kysely<any>;
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer>;
}

/**
 * The applet engine as separate services in this process: applets (web; it subscribes there), trigger-poller
 * (web + worker) and actions (web + worker), each with its own database and Redis key prefix and an admin
 * token of its own, sharing only Redis' event streams (one EVENTS_PREFIX): the way they run in production,
 * minus the process boundaries. `stop()` stops everything and removes the databases and keys.
 */
export interface Engine {
  applets: ServiceApi;
  triggerPoller: ServiceApi;
  actions: ServiceApi;
  stop(): Promise<void>;
}

function api(running: RunningService<ConfigSchema, unknown>, adminToken: string): ServiceApi {
  return {
    url: running.url,
    adminToken,
    db: running.ctx.db,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${running.url}${path}`, {
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
      };
    },
  };
}

/** Options of {@link startEngine} beyond the env. */
export interface StartEngineOptions {
  /** Called with each web process' Express app as it is built (the fuzz test reads its routes). */
  onWebApp?: (service: string, app: Express) => void;
}

/**
 * `definition` whose web app is handed to `onWebApp` once built (`definition` itself without `onWebApp`).
 *
 * @example
 *   await startService(observed(partnerSandboxService, (name, app) => apps.set(name, app)), { env, port: 0 });
 */
export function observed<S extends ConfigSchema, DB>(
  definition: ServiceDefinition<S, DB>,
  onWebApp: StartEngineOptions['onWebApp'],
): ServiceDefinition<S, DB> {
  const web = definition.web;
  if (!onWebApp || !web) return definition;
  return {
    ...definition,
    web: async (ctx) => {
      const built = await web(ctx);
      onWebApp(definition.name, typeof built === 'function' ? built : built.app);
      return built;
    },
  };
}

/**
 * Starts the engine. `env` adds settings per service (short retry delays for tests).
 *
 * @example
 *   const engine = await startEngine({ actions: { ACTION_RETRY_BASE_MS: '50' } });
 *   afterAll(() => engine.stop());
 */
export async function startEngine(
  env: {
    applets?: Record<string, string>;
    triggerPoller?: Record<string, string>;
    actions?: Record<string, string>;
  } = {},
  options: StartEngineOptions = {},
): Promise<Engine> {
  const prefix = uniqueKeyPrefix('engine');
  // One events key for the engine (applets seals partner keys in events, the others open them); each service
  // seals what it stores under keys of its own.
  const eventSecretsKeys = generateKeyringEntry('engine-events');
  const databases: TestDatabase[] = [];
  const running: RunningService<ConfigSchema, unknown>[] = [];
  const stop = async (): Promise<void> => {
    // Workers first (they hold jobs and subscriptions), then the web processes.
    for (const service of running.splice(0).reverse()) await service.stop();
    for (const database of databases.splice(0)) await database.drop();
    const redis = new Redis(testRedisUrl());
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      await redis.quit();
    }
  };
  const start = async <S extends ConfigSchema, DB>(
    definition: ServiceDefinition<S, DB>,
    extra: Record<string, string>,
    modes: ('serve' | 'worker')[],
  ): Promise<ServiceApi> => {
    const database = await createTestDatabase(definition.name.replaceAll('-', '_'));
    databases.push(database);
    const adminToken = randomBytes(24).toString('base64url');
    const serviceEnv = {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      ADMIN_TOKEN: adminToken,
      REDIS_KEY_PREFIX: `${prefix}${definition.name}:`,
      EVENTS_PREFIX: `${prefix}events:`,
      LOG_LEVEL: process.env.ENGINE_LOG_LEVEL ?? 'silent', // ENGINE_LOG_LEVEL=debug shows every service's log lines
      DATABASE_POOL_MAX: '4',
      // The fake partners listen on http://127.0.0.1: the local environment allows that (and only it).
      ENVIRONMENT: 'local',
      SECRETS_KEYS: generateKeyringEntry(definition.name),
      EVENTS_SECRETS_KEYS: eventSecretsKeys,
      ...extra,
    };
    let web: ServiceApi | undefined;
    for (const mode of modes) {
      const service = await startService(observed(definition, options.onWebApp), {
        env: serviceEnv,
        mode,
        port: 0,
        host: '127.0.0.1',
      });
      running.push(service as unknown as RunningService<ConfigSchema, unknown>);
      if (mode === 'serve')
        web = api(service as unknown as RunningService<ConfigSchema, unknown>, adminToken);
    }
    if (!web) throw new Error(`${definition.name}: no web process started`);
    return web;
  };
  try {
    const applets = await start(appletsService, env.applets ?? {}, ['serve']);
    const triggerPoller = await start(triggerPollerService, env.triggerPoller ?? {}, ['serve', 'worker']);
    const actions = await start(actionsService, env.actions ?? {}, ['serve', 'worker']);
    return { applets, triggerPoller, actions, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export { eventually } from '@ittd/platform/testing';
