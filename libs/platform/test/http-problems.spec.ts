import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HttpProblem, PROBLEM_CONTENT_TYPE, problemFromZodError } from '../src/index';
import { listenHttpService } from './support';

describe('problem answers', () => {
  let url: string;
  let server: Server;

  beforeAll(async () => {
    ({ url, server } = await listenHttpService((app) => {
      app.get('/limited', () => {
        throw new HttpProblem(429, { detail: 'Slow down.', headers: { 'Retry-After': '17' } });
      });
      app.get('/sneaky', () => {
        throw new HttpProblem(401, {
          headers: { 'WWW-Authenticate': 'Bearer realm="ittd"', 'Content-Type': 'text/html' },
        });
      });
    }));
  });

  afterAll(() => {
    server?.close();
  });

  it('carry the headers of the problem', async () => {
    const response = await fetch(`${url}/limited`);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('17');
    expect(response.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    expect(await response.json()).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Slow down.',
      instance: '/limited',
    });
  });

  it('keep the problem content type whatever the headers say', async () => {
    const response = await fetch(`${url}/sneaky`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="ittd"');
    expect(response.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
  });

  it('carry no extra headers when the problem has none', async () => {
    const response = await fetch(`${url}/nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(new HttpProblem(404).headers).toEqual({});
  });
});

/** The error of a value the schema must reject. */
function zodErrorOf(schema: z.ZodType, value: unknown): z.ZodError {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('expected the value to be rejected');
  return parsed.error;
}

describe('problemFromZodError', () => {
  const appletInput = z.strictObject({
    trigger: z.strictObject({ service: z.string(), fields: z.record(z.string(), z.string()) }),
  });

  it('names each unknown key by its path, at any depth', () => {
    const error = zodErrorOf(appletInput, {
      trigger: { service: 's', fields: {}, foo: 1, bar: 2 },
      owner: '1',
    });
    const problem = problemFromZodError(error, 'invalid applet');
    expect(problem.status).toBe(400);
    expect(problem.detail).toBe('invalid applet');
    expect(problem.errors).toEqual([
      { name: 'trigger.foo', reason: 'Unrecognized key' },
      { name: 'trigger.bar', reason: 'Unrecognized key' },
      { name: 'owner', reason: 'Unrecognized key' },
    ]);
  });

  it('names other invalid fields by path and the value as a whole `(body)`', () => {
    const wrongField = zodErrorOf(appletInput, { trigger: { service: 's', fields: { city: 7 } } });
    expect(problemFromZodError(wrongField).errors?.map((e) => e.name)).toEqual(['trigger.fields.city']);
    const notAnObject = zodErrorOf(appletInput, 'applet');
    expect(problemFromZodError(notAnObject).errors?.map((e) => e.name)).toEqual(['(body)']);
  });
});
