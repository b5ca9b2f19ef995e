import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  baseServiceConfig,
  createHttpService,
  databaseConfig,
  defineTopic,
  eventsConfig,
  eventsOptions,
  publish,
  redisConfig,
  startService,
  subscribe,
  type EventContext,
  type HealthResponse,
  type ServiceDefinition,
} from '../src/index';
import { createTestDatabase, testRedisUrl, uniqueKeyPrefix, type TestDatabase } from '../src/testing';
import { logCollector } from './support';

const noteAdded = defineTopic('note.added', z.object({ text: z.string() }));
const configSchema = z.object({ ...baseServiceConfig, ...databaseConfig, ...redisConfig, ...eventsConfig });

/** A service that publishes note.added from its web route and receives it in one subscription. */
function notesService(
  received: { text: string; context: EventContext; mode: string }[],
  withWorker: boolean,
) {
  const definition: ServiceDefinition<typeof configSchema> = {
    name: 'notes',
    config: configSchema,
    web: (ctx) =>
      createHttpService({
        ...ctx,
        routes: (app) => {
          app.post('/notes/:text', async (req, res) => {
            await ctx.db.transaction().execute(async (trx) => {
              await publish(
                trx,
                noteAdded,
                { text: req.params.text },
                { requestId: req.get('x-request-id') },
              );
              if (req.params.text === 'rollback') throw new Error('rolled back on purpose');
            });
            res.status(202).end();
          });
        },
      }),
    events: {
      publishes: true,
      subscriptions: (ctx) => [
        subscribe(
          noteAdded,
          'notes-test',
          async (event, context) => {
            received.push({ text: event.text, context, mode: withWorker ? 'worker' : 'serve' });
          },
          { ...eventsOptions(ctx), blockMs: 100 },
        ),
      ],
    },
  };
  if (withWorker) definition.worker = () => ({ name: 'idle-worker', stop: () => Promise.resolve() });
  return definition;
}

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ServiceDefinition.events', () => {
  let database: TestDatabase;
  const prefix = uniqueKeyPrefix('service-events');

  beforeAll(async () => {
    database = await createTestDatabase('platform_service_events');
  });
  afterAll(async () => {
    await database?.drop();
    const redis = new Redis(testRedisUrl());
    try {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      await redis.quit();
    }
  });

  const env = () => ({ DATABASE_URL: database.url, REDIS_URL: testRedisUrl(), EVENTS_PREFIX: prefix });
  const options = { logDestination: logCollector().stream, port: 0, host: '127.0.0.1' };

  it('serve migrates the events tables, relays what a route published, and runs the subscriptions there when there is no worker', async () => {
    const received: { text: string; context: EventContext; mode: string }[] = [];
    const web = await startService(notesService(received, false), { env: env(), ...options });
    try {
      const tables = await sql<{ name: string | null }>`
        select to_regclass('public.platform_event_outbox')::text as name`.execute(web.ctx.db);
      expect(tables.rows[0].name).toBe('platform_event_outbox');
      expect((await fetch(`${web.url}/notes/rollback`, { method: 'POST' })).status).toBe(500);
      const answer = await fetch(`${web.url}/notes/hello`, {
        method: 'POST',
        headers: { 'x-request-id': 'req-42' },
      });
      expect(answer.status).toBe(202);
      await until('the event', () => received.length > 0);
      expect(received.map((r) => [r.text, r.context.requestId, r.mode])).toEqual([
        ['hello', 'req-42', 'serve'],
      ]);
      const ready = (await (await fetch(`${web.url}/health/ready`)).json()) as HealthResponse;
      expect(Object.keys(ready.checks)).toContain('events-relay:lag');
    } finally {
      await web.stop();
    }
  });

  it('with a worker, the subscriptions run in the worker only, and both processes relay', async () => {
    const received: { text: string; context: EventContext; mode: string }[] = [];
    const definition = notesService(received, true);
    const web = await startService(definition, { env: env(), ...options });
    try {
      // Only the web process runs now: it relays, but nothing subscribes in it.
      await fetch(`${web.url}/notes/first`, { method: 'POST' });
      const relayed = async () =>
        (
          await sql<{ n: number }>`select count(*)::int as n from platform_event_outbox
            where relayed_at is not null`.execute(web.ctx.db)
        ).rows[0].n;
      const before = await relayed();
      const deadline = Date.now() + 10_000;
      while ((await relayed()) === before && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(await relayed()).toBeGreaterThan(before);
      expect(received).toEqual([]);
      const worker = await startService(definition, { env: env(), mode: 'worker', ...options });
      try {
        await until('the event in the worker', () => received.some((r) => r.text === 'first'));
        expect(received.every((r) => r.mode === 'worker')).toBe(true);
      } finally {
        await worker.stop();
      }
    } finally {
      await web.stop();
    }
  });
});
