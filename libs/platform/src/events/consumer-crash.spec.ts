import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedisUrl } from '../testing/test-redis';
import { OutboxRelay } from './outbox-relay';
import { publish } from './publish';
import { type EventContext, subscribe } from './subscription';
import {
  openEventsTestEnv,
  orderPlaced,
  relayUntil,
  waitFor,
  type EventsTestEnv,
} from './testing/events-test-support';

const fixture = fileURLToPath(new URL('./testing/crash-consumer-process.ts', import.meta.url));
let t: EventsTestEnv;
const children: ChildProcess[] = [];

beforeAll(async () => {
  t = await openEventsTestEnv('events-crash');
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await t.close();
});

/** Starts the crash fixture and resolves once it printed "ready" (bounded by 20 s). */
async function spawnConsumer(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumer not ready after 20 s: ${stderr}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) =>
      reject(new Error(`consumer exited with ${String(code)} before ready: ${stderr}`)),
    );
  });
  return { child, exited };
}

describe('a consumer SIGKILLed inside its handler', () => {
  it('the event is delivered again, with the same event id, to another consumer of the subscription', async () => {
    const leaseMs = 1000;
    const crashed = await spawnConsumer({
      REDIS_URL: testRedisUrl(),
      PREFIX: t.prefix,
      LEASE_MS: String(leaseMs),
    });
    const relay = new OutboxRelay({ db: t.db, redis: t.redis, prefix: t.prefix });
    const eventId = await t.db.transaction().execute((trx) => publish(trx, orderPlaced, { n: 1 }));
    expect(await relayUntil(relay, 1)).toBe(1);
    await waitFor(
      'the child to start handling',
      async () => (await t.redis.llen(`${t.prefix}started`)) === 1,
    );
    crashed.child.kill('SIGKILL');
    expect(await crashed.exited).toBe('SIGKILL');
    expect(await t.redis.lrange(`${t.prefix}started`, 0, -1)).toEqual([`${eventId}:1`]);

    const seen: EventContext[] = [];
    const survivor = subscribe(
      orderPlaced,
      'crash-test',
      async (_event, context) => void seen.push(context),
      {
        redis: t.redis,
        prefix: t.prefix,
        leaseMs,
        blockMs: 100,
      },
    );
    await survivor.start();
    try {
      await waitFor('the redelivery', () => seen.length === 1);
    } finally {
      await survivor.stop();
    }
    expect(seen[0]).toMatchObject({ eventId, deliveryCount: 2, subscription: 'crash-test' });
    const pending = (await t.redis.xpending(`${t.prefix}{${orderPlaced.name}}`, 'crash-test')) as [number];
    expect(pending[0]).toBe(0);
  }, 60_000);
});
