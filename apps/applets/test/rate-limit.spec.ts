import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppletsTestService, type AppletsTestService } from './support/applets-test-service';

let service: AppletsTestService;

beforeAll(async () => {
  service = await startAppletsTestService({ API_RATE_LIMIT_PER_MINUTE: '3' });
});

afterAll(async () => {
  await service?.stop();
});

describe('per-user rate limit', () => {
  it('answers 429 with Retry-After past the limit, per user, counted in Redis', async () => {
    const ada = await service.createUser('ada');
    const bob = await service.createUser('bob');
    // The limit counts per wall-clock minute: start well inside one so the four calls share a window.
    const msIntoMinute = Date.now() % 60_000;
    if (msIntoMinute > 55_000)
      await new Promise((resolve) => setTimeout(resolve, 60_000 - msIntoMinute + 50));
    const statuses: number[] = [];
    const remaining: (string | null)[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const response = await service.request('GET', '/v1/applets', { token: ada.token });
      statuses.push(response.status);
      remaining.push(response.headers.get('ratelimit-remaining'));
      if (response.status === 429) {
        const retryAfter = Number(response.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(remaining).toEqual(['2', '1', '0', '0']);
    const counters = await service.redis.keys(`${service.redisKeyPrefix}rate:${ada.id}:*`);
    expect(counters).toHaveLength(1);
    expect((await service.request('GET', '/v1/applets', { token: bob.token })).status).toBe(200);
  });
});
