import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createRedis, PROBLEM_CONTENT_TYPE } from '../src/index';
import {
  createTestDatabase,
  startTcpProxy,
  testRedisUrl,
  uniqueKeyPrefix,
  type SpawnedProcess,
  type TcpProxy,
  type TestDatabase,
} from '../src/testing';
import { get, readyWithin, startDatastoreFixture } from './connection-support';
import { closedPort, logCollector } from './support';

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 500 && Date.now() < deadline; attempt++) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('a Redis connection that is lost', { timeout: 120_000 }, () => {
  const prefix = uniqueKeyPrefix('redis-loss');
  const direct = new Redis(testRedisUrl());
  const proxies: TcpProxy[] = [];
  const processes: SpawnedProcess[] = [];
  let database: TestDatabase;

  async function proxyToRedis(): Promise<{ proxy: TcpProxy; url: string }> {
    const target = new URL(testRedisUrl());
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    proxies.push(proxy);
    target.host = `${proxy.host}:${proxy.port}`;
    return { proxy, url: target.toString() };
  }

  /** A fixture service whose Redis is behind a proxy of its own; its `/redis` route reads `key` (set to `value`). */
  async function serviceBehindProxy(name: string, value: string) {
    const { proxy, url } = await proxyToRedis();
    const key = `${prefix}${name}`;
    await direct.set(key, value);
    const { proc, base } = await startDatastoreFixture({
      DATABASE_URL: database.url,
      REDIS_URL: url,
      FIXTURE_REDIS_KEY: key,
      REDIS_COMMAND_TIMEOUT_MS: '1000',
    });
    processes.push(proc);
    return { proxy, proc, base };
  }

  beforeAll(async () => {
    database = await createTestDatabase('platform_redis_loss');
  });

  afterAll(async () => {
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    for (const proxy of proxies) await proxy.close();
    const keys = await direct.keys(`${prefix}*`);
    if (keys.length) await direct.del(...keys);
    direct.disconnect();
    await database?.drop();
  });

  it('is a 503 problem+json for the request, never a hang or a crash, and readiness recovers after it heals', async () => {
    const { proxy, proc, base } = await serviceBehindProxy('value', 'stored');
    expect(await get(`${base}/redis`)).toMatchObject({ status: 200, body: { value: 'stored' } });

    proxy.blackhole();
    const unanswered = await get(`${base}/redis`);
    expect(unanswered.status).toBe(503);
    expect(unanswered.type).toContain(PROBLEM_CONTENT_TYPE);
    expect(unanswered.retryAfter).toMatch(/^\d+$/);
    expect((await get(`${base}/health/ready`)).status).toBe(503);

    // The partition ends as NAT state loss does: the connections are reset, new ones still get nowhere.
    proxy.cut();
    expect((await get(`${base}/redis`)).status).toBe(503);
    proxy.heal();

    expect(await readyWithin(base, 10_000)).toBeDefined();
    expect(await get(`${base}/redis`)).toMatchObject({ status: 200, body: { value: 'stored' } });
    expect(proc.child.exitCode).toBeNull();
  });

  it('replaces a connection that stops answering: readiness and reads recover within seconds after the blackhole ends', async () => {
    const { proxy, proc, base } = await serviceBehindProxy('kept', 'kept');
    expect(await readyWithin(base, 5000)).toBeDefined();

    // Bytes sent meanwhile are lost and no reset comes: the connection looks up but is out of step.
    proxy.blackhole();
    expect((await get(`${base}/redis`)).status).toBe(503);
    for (let poll = 0; poll < 3; poll++) expect((await get(`${base}/health/ready`)).status).toBe(503);
    proxy.heal();

    expect(await readyWithin(base, 10_000)).toBeDefined();
    expect(await get(`${base}/redis`)).toMatchObject({ status: 200, body: { value: 'kept' } });
    expect(proc.stdout()).toContain('redis did not answer on a ready connection; reconnecting');
  });

  it('does not send a command again after a reconnect: it fails with a time-out and never runs', async () => {
    const { proxy, url } = await proxyToRedis();
    const client = createRedis({ REDIS_URL: url, REDIS_COMMAND_TIMEOUT_MS: 500 });
    const key = `${prefix}counter`;
    try {
      await client.redis.ping();
      proxy.blackhole();
      await expect(client.redis.incr(key)).rejects.toThrow('Command timed out');
      const reconnected = new Promise<void>((resolve) => client.redis.once('ready', () => resolve()));
      proxy.cut();
      proxy.heal();
      await reconnected;
      expect(await client.redis.ping()).toBe('PONG');
      expect(await direct.get(key)).toBeNull();
    } finally {
      await client.component.stop();
    }
  });

  it('logs the errors of every connection, duplicates included', async () => {
    const logs = logCollector();
    const client = createRedis(
      { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` },
      { logger: createLogger({ service: 'redis-loss', destination: logs.stream }) },
    );
    const subscriber = client.redis.duplicate();
    try {
      const logged = () =>
        logs.lines.some(
          (line) =>
            line.msg === 'redis connection error' &&
            line.connection === 'duplicate' &&
            String((line.err as { message?: string }).message).includes('ECONNREFUSED'),
        );
      expect(await until(logged, 5000)).toBe(true);
    } finally {
      subscriber.disconnect();
      await client.component.stop();
    }
  });
});
