import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outboundUrlPolicy } from '@ittd/platform';
import { testRedisUrl, uniqueKeyPrefix } from '@ittd/platform/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartnerRateLimit } from '../src/jobs/partner-rate-limit';
import { callPartnerAction, type ActionCall } from '../src/partner/partner-action-client';

/** A partner that answers every call with the status, headers and body set for the test. */
let answer: { status: number; body: string } = { status: 200, body: '{}' };
/** How many calls the partner answered. */
let answered = 0;
let server: Server;
let url: string;
let redis: Redis;
const prefix = uniqueKeyPrefix('actions-rate');

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      answered += 1;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  redis = new Redis(testRedisUrl());
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

function call(overrides: Partial<ActionCall> = {}): ReturnType<typeof callPartnerAction> {
  return callPartnerAction({
    apiBaseUrl: url,
    serviceKey: 'sk_test_0123456789abcdef',
    serviceSlug: 'fake',
    actionSlug: 'post',
    actionFields: {},
    userTimezone: 'UTC',
    source: { id: '1', url: 'https://ittd.example/applets/1' },
    requestId: 'req-1',
    timeoutMs: 2000,
    maxAnswerBytes: 1024,
    urlPolicy: outboundUrlPolicy({ ENVIRONMENT: 'local', PARTNER_ALLOWED_NETWORKS: '' }),
    signal: new AbortController().signal,
    ...overrides,
  });
}

describe('callPartnerAction classifies what the partner answered', () => {
  it.each([
    [
      200,
      '{"data":[{"id":"r1","url":"https://x"}]}',
      { outcome: 'success', partnerRecordId: 'r1', note: null },
    ],
    [
      400,
      '{"errors":[{"status":"SKIP","message":"no channel"}]}',
      { outcome: 'skipped', message: 'no channel' },
    ],
    [
      400,
      '{"errors":[{"message":"bad field"}]}',
      { outcome: 'failed', retryable: false, keyRejected: false },
    ],
    [404, '{"errors":[{"message":"no such action"}]}', { outcome: 'failed', retryable: false }],
    [403, '{"errors":[{"message":"revoked"}]}', { outcome: 'failed', retryable: false, keyRejected: true }],
    [429, '{"errors":[{"message":"slow down"}]}', { outcome: 'failed', retryable: true }],
    [500, 'oops', { outcome: 'failed', retryable: true }],
    [503, '{"errors":[{"message":"later"}]}', { outcome: 'failed', retryable: true }],
  ])('HTTP %i %s', async (status, body, expected) => {
    answer = { status, body };
    expect(await call()).toMatchObject({ status, ...expected });
  });

  it('keeps a 200 without data[0].id as a success without a record id', async () => {
    answer = { status: 200, body: '{"data":[]}' };
    expect(await call()).toMatchObject({
      outcome: 'success',
      partnerRecordId: null,
      note: expect.stringContaining('without data[0].id'),
    });
  });

  it('fails an answer over the size limit (5 MB at the default 1 MiB), without retrying it or crashing', async () => {
    answer = { status: 200, body: JSON.stringify({ data: [{ id: 'x'.repeat(2000) }] }) };
    expect(await call()).toMatchObject({
      outcome: 'failed',
      retryable: false,
      message: expect.stringContaining('over 1024 bytes (PARTNER_MAX_ANSWER_BYTES)'),
    });
    answer = {
      status: 200,
      body: JSON.stringify({ data: [{ id: 'r1', blob: 'x'.repeat(5 * 1024 * 1024) }] }),
    };
    expect(await call({ maxAnswerBytes: 1_048_576 })).toMatchObject({
      outcome: 'failed',
      retryable: false,
      message: expect.stringContaining('over 1048576 bytes'),
    });
  });

  it('does not call a partner whose URL breaks the policy (checked before each call)', async () => {
    const production = outboundUrlPolicy({ ENVIRONMENT: 'production', PARTNER_ALLOWED_NETWORKS: '' });
    const served = answered;
    const refused = await call({ urlPolicy: production });
    expect(refused).toMatchObject({ outcome: 'failed', retryable: false });
    expect((refused as { message: string }).message).toMatch(
      /was not called: its api_base_url must be https/,
    );
    expect(answered).toBe(served);
  });

  it('names the partner and the status in a failure, never the key', async () => {
    answer = { status: 401, body: '{"errors":[{"message":"bad key"}]}' };
    const result = await call();
    expect(result).toMatchObject({ outcome: 'failed', keyRejected: true });
    const message = (result as { message: string }).message;
    expect(message).toContain('partner fake (action post) rejected the service key (HTTP 401): bad key');
    expect(message).not.toContain('sk_test');
  });
});

describe('PartnerRateLimit', () => {
  it('allows `limit` calls per window and partner, then says how long to wait for the next window', async () => {
    const limiter = new PartnerRateLimit(redis, prefix, { limit: 2, windowMs: 10_000 });
    const now = 1_800_000_003_000; // 3 s into a 10 s window
    expect(await limiter.take('a', now)).toEqual({ allowed: true });
    expect(await limiter.take('a', now)).toEqual({ allowed: true });
    expect(await limiter.take('b', now)).toEqual({ allowed: true });
    const denied = await limiter.take('a', now);
    expect(denied.allowed).toBe(false);
    const waitMs = (denied as { waitMs: number }).waitMs;
    expect(waitMs).toBeGreaterThanOrEqual(7000);
    expect(waitMs).toBeLessThan(8000);
    expect(await limiter.take('a', now + 7000)).toEqual({ allowed: true });
  });
});
