import { startService, type RunningService } from '@ittd/platform';
import { createTestDatabase, type TestDatabase } from '@ittd/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { configSchema } from '../src/config';
import type { DB } from '../src/data/database';
import { partnerSandboxService } from '../src/partner-sandbox-service';

let database: TestDatabase;
let service: RunningService<typeof configSchema, DB>;

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  database = await createTestDatabase('partner_sandbox');
  service = await startService(partnerSandboxService, {
    env: { DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
    port: 0,
    host: '127.0.0.1',
  });
});

afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('partner-sandbox /v1/notes', () => {
  it('creates a note and lists it first', async () => {
    const created = await call('POST', '/v1/notes', { text: 'first' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ text: 'first' });
    await call('POST', '/v1/notes', { text: 'second' });
    const listed = await call('GET', '/v1/notes?limit=1');
    expect(listed.body).toMatchObject({ notes: [{ text: 'second' }] });
  });

  it('answers 400 with the reason for an empty note', async () => {
    const response = await call('POST', '/v1/notes', { text: '  ' });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain('must not be empty');
  });

  it('answers 400 for a NUL or a lone surrogate in the note', async () => {
    for (const text of ['a\u0000b', 'x\ud800y']) {
      const response = await call('POST', '/v1/notes', { text });
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toContain('well-formed Unicode without NUL');
    }
  });

  it('is ready once migrated', async () => {
    expect((await call('GET', '/health/ready')).status).toBe(200);
  });
});
