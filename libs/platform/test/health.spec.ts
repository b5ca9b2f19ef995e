import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createDatabase,
  createHttpService,
  createLogger,
  createMetricsRegistry,
  createRedis,
  HEALTH_CONTENT_TYPE,
  HealthRegistry,
  type HealthResponse,
} from '../src/index';
import { testRedisUrl } from '../src/testing';
import { closedPort, logCollector } from './support';

/** Serves the platform's HTTP stack with the given registry on a free loopback port. */
async function serve(health: HealthRegistry): Promise<{ url: string; server: Server }> {
  const app = createHttpService({
    logger: createLogger({ service: 'health-test', destination: logCollector().stream }),
    metrics: createMetricsRegistry('health-test'),
    health,
    routes: () => undefined,
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function get(
  url: string,
): Promise<{ status: number; type: string | null; body: HealthResponse; ms: number }> {
  const started = performance.now();
  const response = await fetch(url);
  const body = (await response.json()) as HealthResponse;
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body,
    ms: performance.now() - started,
  };
}

describe('readiness with Postgres unreachable', () => {
  const health = new HealthRegistry('health-test');
  let url: string;
  let server: Server;
  let stopDatabase: () => Promise<void>;

  beforeAll(async () => {
    const database = createDatabase({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/test`,
    });
    stopDatabase = database.component.stop;
    health.add(database.healthCheck);
    health.add({
      name: 'jobs',
      measurement: 'queueDepth',
      run: async () => ({ status: 'warn', observedValue: 1200, observedUnit: 'jobs' }),
    });
    ({ url, server } = await serve(health));
  });

  afterAll(async () => {
    server.close();
    await stopDatabase();
  });

  it('answers 503 with the failing check within 2 s', async () => {
    const ready = await get(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.type).toContain(HEALTH_CONTENT_TYPE);
    expect(ready.ms).toBeLessThan(2000);
    expect(ready.body.status).toBe('fail');
    const [postgres] = ready.body.checks['postgres:responseTime'];
    expect(postgres).toMatchObject({ status: 'fail', componentType: 'datastore', observedUnit: 'ms' });
    expect(postgres.output).toMatch(/ECONNREFUSED|connect/);
    expect(typeof postgres.observedValue).toBe('number');
    expect(Date.parse(postgres.time)).not.toBeNaN();
    expect(ready.body.checks['jobs:queueDepth']).toEqual([
      expect.objectContaining({ status: 'warn', observedValue: 1200, observedUnit: 'jobs' }),
    ]);
  });

  it('keeps liveness at 200', async () => {
    const live = await get(`${url}/health/live`);
    expect(live.status).toBe(200);
    expect(live.type).toContain(HEALTH_CONTENT_TYPE);
    expect(live.body).toMatchObject({ status: 'pass', checks: {} });
  });
});

describe('readiness checks', () => {
  it('fails a check that hangs past its time-out', async () => {
    const health = new HealthRegistry('t');
    health.add({ name: 'hang', timeoutMs: 50, run: () => new Promise<void>(() => undefined) });
    const ready = await health.readiness();
    expect(ready.status).toBe('fail');
    expect(ready.checks['hang:responseTime'][0].output).toBe('timed out after 50 ms');
  });

  it('stays 200 on warn and turns fail the moment shutdown begins', async () => {
    const health = new HealthRegistry('t');
    health.add({
      name: 'queue',
      measurement: 'depth',
      run: async () => ({ status: 'warn', observedValue: 5 }),
    });
    const { url, server } = await serve(health);
    try {
      const warn = await get(`${url}/health/ready`);
      expect(warn.status).toBe(200);
      expect(warn.body.status).toBe('warn');
      health.markShuttingDown();
      const down = await get(`${url}/health/ready`);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'fail', output: 'shutting down' });
      expect((await get(`${url}/health/live`)).status).toBe(200);
    } finally {
      server.close();
    }
  });

  it('passes the Redis check against the real Redis and fails it on a closed port', async () => {
    const up = createRedis({ REDIS_URL: testRedisUrl() });
    const down = createRedis({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    try {
      await up.redis.ping();
      const health = new HealthRegistry('t');
      health.add(up.healthCheck);
      expect((await health.readiness()).status).toBe('pass');
      health.add(down.healthCheck);
      const ready = await health.readiness();
      expect(ready.status).toBe('fail');
      expect(ready.checks['redis:responseTime'].map((c) => c.status)).toEqual(['pass', 'fail']);
    } finally {
      await up.component.stop();
      await down.component.stop();
    }
  });
});
