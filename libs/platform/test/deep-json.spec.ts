import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createHttpService,
  createLogger,
  createMetricsRegistry,
  HealthRegistry,
  MAX_JSON_DEPTH,
  parseRequest,
  PROBLEM_CONTENT_TYPE,
  TOO_DEEP_REASON,
  wellFormedJson,
} from '../src/index';
import { createTestDatabase, type TestDatabase } from '../src/testing';
import { logCollector } from './support';

// Issue 7, item 6's neighbour: a JSON value from outside nested 100,000 levels deep. Express's body parser
// reads it (V8's JSON.parse does not recurse), but JSON.stringify overflows its stack on it and Postgres
// refuses such jsonb (54001): the platform's JSON rule refuses it first, as a 400 naming the field.

/** Arrays nested `levels` deep around `inner` (JSON text). */
function nested(levels: number, inner = ''): string {
  return `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
}

const noteBody = z.strictObject({ data: wellFormedJson });

let testDb: TestDatabase;
let client: pg.Client;
let server: Server;
let url: string;
const logs = logCollector();

async function post(rawJson: string): Promise<{ status: number; type: string | null; body: unknown }> {
  const response = await fetch(`${url}/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: rawJson,
    signal: AbortSignal.timeout(10_000),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as unknown,
  };
}

async function storedNotes(): Promise<unknown[]> {
  return (await client.query<{ data: unknown }>('select data from notes order by id')).rows.map(
    (r) => r.data,
  );
}

beforeAll(async () => {
  testDb = await createTestDatabase('platform_deep_json');
  client = new pg.Client({ connectionString: testDb.url });
  await client.connect();
  await client.query('create table notes (id serial primary key, data jsonb not null)');
  // Postgres's smallest stack setting (a session setting, for this connection only): the limit must hold on
  // any server, not only on one with the default 2MB.
  await client.query("set max_stack_depth = '100kB'");
  const app = createHttpService({
    logger: createLogger({ service: 'deep-json-test', destination: logs.stream }),
    metrics: createMetricsRegistry('deep-json-test'),
    health: new HealthRegistry('deep-json-test'),
    bodyLimit: '1mb',
    routes: (routes) =>
      routes.post('/notes', async (req, res) => {
        const { data } = parseRequest(noteBody, req.body);
        await client.query('insert into notes (data) values ($1::jsonb)', [JSON.stringify(data)]);
        res.status(201).json({ stored: true });
      }),
  });
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await client?.end();
  await testDb?.drop();
});

describe('a JSON body nested 100,000 levels deep', () => {
  it('is read by the body parser and refused by the schema: 400 problem+json, never a 500', async () => {
    for (const body of [nested(100_000), `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`]) {
      const answer = await post(body);
      expect(answer.status).toBe(400);
      expect(answer.type).toContain(PROBLEM_CONTENT_TYPE);
    }
    expect(logs.lines.filter((line) => line.msg === 'request failed')).toEqual([]);
    expect(await storedNotes()).toEqual([]);
  });

  it('in a free-form field: 400 naming the path where the limit was passed, nothing stored', async () => {
    const answer = await post(`{"data":{"list":${nested(100_000, '"x"')}}}`);
    expect(answer.status).toBe(400);
    expect((answer.body as { errors: unknown }).errors).toEqual([
      { name: ['data', 'list', ...Array(MAX_JSON_DEPTH - 1).fill(0)].join('.'), reason: TOO_DEEP_REASON },
    ]);
    expect(await storedNotes()).toEqual([]);
  });

  it(`stores a value ${MAX_JSON_DEPTH} levels deep, as it came, even with max_stack_depth at its minimum`, async () => {
    const answer = await post(`{"data":${nested(MAX_JSON_DEPTH, '"x"')}}`);
    expect(answer.status).toBe(201);
    expect(await storedNotes()).toEqual([JSON.parse(nested(MAX_JSON_DEPTH, '"x"'))]);
  });

  it('is what JSON.stringify and Postgres jsonb cannot handle (why the rule exists)', async () => {
    expect(() => JSON.stringify(JSON.parse(nested(100_000)))).toThrow(RangeError);
    await expect(client.query('select $1::jsonb', [nested(100_000)])).rejects.toMatchObject({
      code: '54001',
    });
  });
});
