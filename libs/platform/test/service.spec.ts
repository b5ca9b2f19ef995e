import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createServiceContext,
  loggingConfig,
  redisConfig,
  startService,
  type Component,
  type HealthResponse,
  type ServiceDefinition,
} from '../src/index';
import { createTestDatabase, testRedisUrl, type TestDatabase } from '../src/testing';
import { fixtureService } from './fixtures/fixture-service';
import { logCollector } from './support';

const quiet = () => ({ logDestination: logCollector().stream, port: 0, host: '127.0.0.1' });

describe('startService', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('platform_service');
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function tableExists(service: Awaited<ReturnType<typeof startService>>): Promise<boolean> {
    const result = await sql<{
      name: string | null;
    }>`select to_regclass('public.notes')::text as name`.execute(service.ctx.db);
    return result.rows[0].name !== null;
  }

  it('skips migrations with MIGRATE_ON_START=false and runs them by default', async () => {
    const env = { DATABASE_URL: database.url, PARTNER_TOKEN: 't' };
    const skipped = await startService(fixtureService, {
      env: { ...env, MIGRATE_ON_START: 'false' },
      ...quiet(),
    });
    try {
      expect(await tableExists(skipped)).toBe(false);
    } finally {
      await skipped.stop();
    }
    const migrated = await startService(fixtureService, { env, ...quiet() });
    try {
      expect(await tableExists(migrated)).toBe(true);
      const ready = (await (await fetch(`${migrated.url}/health/ready`)).json()) as HealthResponse;
      expect(Object.keys(ready.checks)).toEqual(['postgres:responseTime']);
    } finally {
      await migrated.stop();
    }
  });

  it('binds HOST when no host is passed (every interface without it), and refuses a bad HOST', async () => {
    const env = { DATABASE_URL: database.url, PARTNER_TOKEN: 't' };
    /** The interfaces the service's listeners bound, from their "listening" log lines. */
    async function boundAddresses(extraEnv: Record<string, string>): Promise<unknown[]> {
      const logs = logCollector();
      const service = await startService(fixtureService, {
        env: { ...env, ...extraEnv },
        logDestination: logs.stream,
        port: 0,
        metricsPort: 0,
      });
      await service.stop();
      return logs.lines.filter((line) => String(line.msg).endsWith('listening')).map((line) => line.address);
    }
    const loopback = await boundAddresses({ HOST: '127.0.0.1' });
    expect(loopback).toEqual(['127.0.0.1', '127.0.0.1']); // metrics and API
    const everywhere = await boundAddresses({});
    expect(everywhere).toHaveLength(2);
    for (const address of everywhere) expect(['::', '0.0.0.0']).toContain(address);
    await expect(
      startService(fixtureService, { env: { ...env, HOST: 'every-interface' }, ...quiet() }),
    ).rejects.toThrow(/HOST/);
  });

  it('runs the worker with health and metrics served, and stops it', async () => {
    const events: string[] = [];
    const worker: Component = {
      name: 'worker',
      start: async () => void events.push('start'),
      stop: async () => void events.push('stop'),
    };
    const definition: ServiceDefinition<z.ZodObject<typeof loggingConfig>> = {
      name: 'worker-test',
      config: z.object(loggingConfig),
      worker: () => worker,
    };
    const service = await startService(definition, { env: {}, mode: 'worker', ...quiet() });
    try {
      expect(events).toEqual(['start']);
      expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
      expect((await fetch(`${service.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${service.url}/anything`)).status).toBe(404);
    } finally {
      await service.stop();
    }
    expect(events).toEqual(['start', 'stop']);
  });
});

describe('createServiceContext', () => {
  it('creates Redis when the schema has REDIS_URL and registers its readiness check', async () => {
    const definition: ServiceDefinition<z.ZodObject<typeof redisConfig>> = {
      name: 'redis-test',
      config: z.object(redisConfig),
    };
    const ctx = createServiceContext(definition, {
      env: { REDIS_URL: testRedisUrl() },
      logDestination: logCollector().stream,
    });
    try {
      expect(await ctx.redis.ping()).toBe('PONG');
      expect(Object.keys((await ctx.health.readiness()).checks)).toEqual(['redis:responseTime']);
      expect(() => ctx.db).toThrow(
        'redis-test: no DATABASE_URL in the config schema (spread databaseConfig)',
      );
    } finally {
      await ctx.lifecycle.stop({ drain: false });
    }
    expect(ctx.redis.status).toBe('end');
  });
});
