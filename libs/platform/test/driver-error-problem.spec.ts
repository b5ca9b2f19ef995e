import type { Server } from 'node:http';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, createRedis, PROBLEM_CONTENT_TYPE, type Database } from '../src/index';
import { createTestDatabase, type TestDatabase } from '../src/testing';
import { closedPort, listenHttpService } from './support';

/** Real driver errors, thrown by real queries and commands, and the answers they get. */
describe('driver errors in a request', () => {
  let testDatabase: TestDatabase;
  let database: Database<unknown>;
  let impatient: Database<unknown>;
  let unreachable: Database<unknown>;
  let redisDown: ReturnType<typeof createRedis>;
  let url: string;
  let server: Server;

  beforeAll(async () => {
    testDatabase = await createTestDatabase('platform_driver_errors');
    database = createDatabase({ DATABASE_URL: testDatabase.url, DATABASE_POOL_MAX: 2 });
    impatient = createDatabase({ DATABASE_URL: testDatabase.url, DATABASE_STATEMENT_TIMEOUT_MS: 100 });
    const nowhere = await closedPort();
    unreachable = createDatabase({ DATABASE_URL: `postgres://postgres@127.0.0.1:${nowhere}/test` });
    redisDown = createRedis({ REDIS_URL: `redis://127.0.0.1:${nowhere}`, REDIS_COMMAND_TIMEOUT_MS: 300 });
    await sql`create table notes (body text, doc jsonb)`.execute(database.db);
    await sql`create index notes_body on notes (body)`.execute(database.db);
    ({ url, server } = await listenHttpService((app) => {
      app.get('/nul-in-text', async () => {
        await sql`insert into notes (body) values (${'a\u0000b'})`.execute(database.db);
      });
      app.get('/nul-in-jsonb', async () => {
        await sql`insert into notes (doc) values (${JSON.stringify({ name: 'a\u0000b' })}::jsonb)`.execute(
          database.db,
        );
      });
      app.get('/not-a-number', async () => {
        await sql`select ${'twelve'}::int`.execute(database.db);
      });
      app.get('/too-big-for-an-index', async () => {
        // Random hex does not compress: far over a btree row's ~2.7 kB limit (54000).
        const body = Array.from({ length: 400 }, () => Math.random().toString(16).slice(2)).join('');
        await sql`insert into notes (body) values (${body})`.execute(database.db);
      });
      app.get('/too-deep-for-jsonb', async () => {
        const deep = '['.repeat(100_000) + ']'.repeat(100_000);
        await sql`insert into notes (doc) values (${deep}::jsonb)`.execute(database.db);
      });
      app.get('/terminated', async () => {
        await sql`select pg_terminate_backend(pg_backend_pid())`.execute(database.db);
      });
      app.get('/statement-timeout', async () => {
        await sql`select pg_sleep(1)`.execute(impatient.db);
      });
      app.get('/postgres-unreachable', async () => {
        await sql`select 1`.execute(unreachable.db);
      });
      app.get('/redis-unreachable', async () => {
        await redisDown.redis.get('anything');
      });
      app.get('/bug', async () => {
        await sql`select * from no_such_table`.execute(database.db);
      });
    }));
  });

  afterAll(async () => {
    server?.close();
    for (const db of [database, impatient, unreachable]) await db?.component.stop();
    await redisDown?.component.stop();
    await testDatabase?.drop();
  });

  async function answer(path: string) {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(15_000) });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as Record<string, unknown>,
    };
  }

  it.each(['/nul-in-text', '/nul-in-jsonb', '/not-a-number'])(
    'a data exception (SQLSTATE class 22) at %s is a 400 and stores nothing',
    async (path) => {
      const res = await answer(path);
      expect(res.status).toBe(400);
      expect(res.type).toContain(PROBLEM_CONTENT_TYPE);
      expect(res.body).toMatchObject({ status: 400, detail: 'A value in the request cannot be stored.' });
      const { rows } = await sql<{ count: string }>`select count(*) from notes`.execute(database.db);
      expect(rows[0].count).toBe('0');
    },
  );

  it.each(['/too-big-for-an-index', '/too-deep-for-jsonb'])(
    'a value beyond what Postgres can store (SQLSTATE 54000/54001) at %s is a 400 and stores nothing',
    async (path) => {
      const res = await answer(path);
      expect(res.status).toBe(400);
      expect(res.type).toContain(PROBLEM_CONTENT_TYPE);
      expect(res.body).toMatchObject({
        status: 400,
        detail: 'A value in the request is too large or nested too deeply to be stored.',
      });
      const { rows } = await sql<{ count: string }>`select count(*) from notes`.execute(database.db);
      expect(rows[0].count).toBe('0');
    },
  );

  it.each(['/terminated', '/statement-timeout', '/postgres-unreachable', '/redis-unreachable'])(
    'a connection-level failure at %s is a 503 with Retry-After',
    async (path) => {
      const res = await answer(path);
      expect(res.status).toBe(503);
      expect(res.type).toContain(PROBLEM_CONTENT_TYPE);
      expect(res.retryAfter).toBe('2');
      expect(res.body).toMatchObject({ status: 503, detail: 'A data store is unavailable; retry shortly.' });
    },
  );

  it('any other database error stays a bare 500', async () => {
    const res = await answer('/bug');
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ status: 500, detail: 'An unexpected error occurred.' });
  });
});
