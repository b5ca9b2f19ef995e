import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, startService, type RunningService } from '../src/index';
import { createTestDatabase, type TestDatabase } from '../src/testing';
import { fixtureService, type fixtureConfig } from './fixtures/fixture-service';
import { logCollector } from './support';

describe('the HTTP stack of a started service', () => {
  let database: TestDatabase;
  let service: RunningService<typeof fixtureConfig, unknown>;
  const logs = logCollector();

  beforeAll(async () => {
    database = await createTestDatabase('platform_http');
    service = await startService(fixtureService, {
      env: { DATABASE_URL: database.url, PARTNER_TOKEN: 'token-hunter2', BODY_LIMIT: '1kb' },
      port: 0,
      host: '127.0.0.1',
      logDestination: logs.stream,
    });
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('answers a route with JSON and a generated request id', async () => {
    const response = await fetch(`${service.url}/hello`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ hello: 'world' });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a caller request id and puts it on every log line of the request', async () => {
    const response = await fetch(`${service.url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'ifttt-req-42' },
      body: JSON.stringify({ text: 'hi' }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('ifttt-req-42');
    const lines = logs.lines.filter((line) => line.reqId === 'ifttt-req-42');
    expect(lines.map((line) => line.msg)).toEqual(['note accepted', 'request completed']);
    expect(lines[1]).toMatchObject({ service: 'fixture', route: '/notes', status: 201, method: 'POST' });
  });

  it('replaces an unsafe caller request id', async () => {
    const response = await fetch(`${service.url}/hello`, { headers: { 'x-request-id': 'a b\tc' } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const response = await fetch(`${service.url}/nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    expect(await response.json()).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'No route for GET /nope.',
      instance: '/nope',
    });
  });

  it('answers invalid input with a 400 problem naming each field', async () => {
    const response = await fetch(`${service.url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['a', 7] }),
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as {
      detail: string;
      errors: Array<{ name: string; reason: string }>;
    };
    expect(problem.detail).toBe('invalid note');
    expect(problem.errors.map((e) => e.name)).toEqual(['text', 'tags.1']);
  });

  it('answers malformed JSON and oversized bodies with problems', async () => {
    const malformed = await fetch(`${service.url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    const oversized = await fetch(`${service.url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(2048) }),
    });
    expect(oversized.status).toBe(413);
    expect(await oversized.json()).toMatchObject({ status: 413, title: 'Content Too Large' });
  });

  it('answers a thrown error with a bare 500 and logs the stack, not to the client', async () => {
    const response = await fetch(`${service.url}/boom`, { headers: { 'x-request-id': 'boom-1' } });
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred.',
      instance: '/boom',
    });
    expect(body).not.toContain('hunter2');
    expect(body).not.toContain('.ts:');
    const logged = logs.lines.find((line) => line.reqId === 'boom-1' && line.level === 'error');
    expect(JSON.stringify(logged)).toContain('fixture-service.ts');
  });

  it('counts requests by route template and status at /metrics', async () => {
    await fetch(`${service.url}/notes/17`);
    await fetch(`${service.url}/notes/18`);
    // /metrics is on its own listener (METRICS_PORT), not on the API port.
    expect((await fetch(`${service.url}/metrics`)).status).toBe(404);
    const response = await fetch(`${service.metricsUrl}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain(
      'http_requests_total{method="GET",route="/notes/:id",status="404",service="fixture"} 2',
    );
    expect(text).toMatch(
      /http_request_duration_seconds_count\{service="fixture",method="GET",route="\/hello",status="200"\} \d+/,
    );
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).not.toContain('/notes/17');
  });

  it('never logs a secret, even in the startup lines', () => {
    const starting = logs.lines.find((line) => line.msg === 'service starting');
    expect(starting).toMatchObject({
      mode: 'serve',
      config: { PARTNER_TOKEN: '[redacted]', BODY_LIMIT: '1kb' },
    });
    expect(JSON.stringify(logs.lines)).not.toContain('token-hunter2');
  });
});
