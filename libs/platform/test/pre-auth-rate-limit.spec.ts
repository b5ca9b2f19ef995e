import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { bearerUnauthorized, preAuthRateLimit, readBearerToken, releasePreAuthAttempt } from '../src/index';
import { testRedisUrl, uniqueKeyPrefix } from '../src/testing';
import { listenHttpService } from './support';

describe('preAuthRateLimit', () => {
  const redis = new Redis(testRedisUrl());
  const prefix = uniqueKeyPrefix('preauth');
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('stops bad credentials at the limit before the lookup, and never counts valid ones', async () => {
    let lookups = 0;
    const { url, server } = await listenHttpService((app) => {
      app.use(preAuthRateLimit({ redis, limit: 5, keyPrefix: prefix }), async (req, res, next) => {
        lookups += 1; // stands for the database lookup
        const token = readBearerToken(req);
        if (token !== 'good-token') throw bearerUnauthorized('invalid_token');
        await releasePreAuthAttempt(res);
        next();
      });
      app.get('/private', (_req, res) => void res.json({ ok: true }));
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const answer = await fetch(`${url}/private`, { headers: { authorization: 'Bearer bad-token' } });
        statuses.push(answer.status);
        if (answer.status === 429) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(statuses.filter((status) => status === 401)).toHaveLength(5);
      expect(statuses.filter((status) => status === 429)).toHaveLength(15);
      expect(lookups).toBe(5);
    } finally {
      server.close();
    }

    // A fresh prefix: valid requests give their unit back, so many of them never reach the limit.
    const other = `${prefix}valid:`;
    const second = await listenHttpService((app) => {
      app.use(preAuthRateLimit({ redis, limit: 3, keyPrefix: other }), async (req, res, next) => {
        if (readBearerToken(req) !== 'good-token') throw bearerUnauthorized('invalid_token');
        await releasePreAuthAttempt(res);
        next();
      });
      app.get('/private', (_req, res) => void res.json({ ok: true }));
    });
    try {
      for (let i = 0; i < 10; i++) {
        const answer = await fetch(`${second.url}/private`, {
          headers: { authorization: 'Bearer good-token' },
        });
        expect(answer.status).toBe(200);
      }
    } finally {
      second.server.close();
    }
  });

  it('lets a request skip vouches for through without a Redis call, while the others still count', async () => {
    const skipPrefix = `${prefix}skip:`;
    const { url, server } = await listenHttpService((app) => {
      app.use(
        preAuthRateLimit({
          redis,
          limit: 2,
          keyPrefix: skipPrefix,
          skip: (req) => readBearerToken(req) === 'cached-token',
        }),
        async (req, _res, next) => {
          if (readBearerToken(req) !== 'cached-token') throw bearerUnauthorized('invalid_token');
          next();
        },
      );
      app.get('/private', (_req, res) => void res.json({ ok: true }));
    });
    try {
      for (let i = 0; i < 5; i++) {
        const answer = await fetch(`${url}/private`, { headers: { authorization: 'Bearer cached-token' } });
        expect(answer.status).toBe(200);
      }
      // Skipped requests wrote no counter at all.
      expect(await redis.keys(`${skipPrefix}*`)).toEqual([]);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const answer = await fetch(`${url}/private`, { headers: { authorization: 'Bearer bad-token' } });
        statuses.push(answer.status);
      }
      expect(statuses).toEqual([401, 401, 429, 429]);
    } finally {
      server.close();
    }
  });
});
