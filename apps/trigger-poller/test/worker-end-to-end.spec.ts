import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '@ittd/platform';
import type { configSchema } from '../src/config';
import type { DB } from '../src/data/database';
import { pollJobs } from '../src/jobs/poll-jobs';
import { POLL_QUEUE } from '../src/jobs/poll-trigger-job';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import {
  startTriggerPollerTestService,
  waitFor,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';

let service: TriggerPollerTestService;
let partner: FakePartner;
let worker: RunningService<typeof configSchema, DB>;

beforeAll(async () => {
  service = await startTriggerPollerTestService({ POLL_RETRY_BASE_MS: '50' });
  partner = await startFakePartner();
  worker = await service.startWorker();
});

afterAll(async () => {
  await partner?.close();
  await service?.stop();
});

describe('web + worker + partner', () => {
  it('stores the events of a notified trigger, and answers health on the worker', async () => {
    await service.subscribe('ti_e2e', partner);
    partner.addEvents('ti_e2e', [
      { id: 'a', timestamp: 1_700_000_001, ingredients: { title: 'A' } },
      { id: 'b', timestamp: 1_700_000_002, ingredients: { title: 'B' } },
    ]);

    const notified = await service.request('POST', '/v1/notifications', {
      headers: { 'IFTTT-Service-Key': partner.serviceKey },
      body: { data: [{ trigger_identity: 'ti_e2e' }] },
    });
    expect(notified.status).toBe(202);
    await waitFor(
      'events of ti_e2e stored',
      async () => (await service.storedEventIds('ti_e2e')).length === 2,
    );
    expect(await service.storedEventIds('ti_e2e')).toEqual(['a', 'b']);

    const events = await service.request('GET', '/admin/subscriptions/ti_e2e/events', {
      token: service.adminToken,
    });
    expect((events.body as { data: { event_id: string }[] }).data.map((event) => event.event_id)).toEqual([
      'b',
      'a',
    ]);

    const ready = await fetch(`${worker.url}/health/ready`, { signal: AbortSignal.timeout(5000) });
    expect(ready.status).toBe(200);
    const checks = ((await ready.json()) as { checks: Record<string, unknown> }).checks;
    expect(Object.keys(checks)).toContain('jobs:queueDepth');
    expect(partner.requestProblems).toEqual([]);
    // The web process answers 202 once polls are in Redis, so its readiness checks that Redis keeps them too.
    const webReady = await fetch(`${service.url}/health/ready`, { signal: AbortSignal.timeout(5000) });
    const webChecks = ((await webReady.json()) as { checks: Record<string, unknown> }).checks;
    const queueRedis = Object.keys(checks).filter((name) => name.startsWith('jobs:redis'));
    expect(queueRedis.length).toBeGreaterThan(0);
    for (const name of queueRedis) expect(Object.keys(webChecks)).toContain(name);
  });

  it('completes a poll the partner answers 503 (no queue retry) and backs the subscription off; the next poll records', async () => {
    const { queue } = pollJobs(worker.ctx);
    const failures: string[] = [];
    queue.events.on('failed', (event) => failures.push(event.error));

    await service.subscribe('ti_flaky', partner);
    partner.addEvents('ti_flaky', [{ id: 'f1', timestamp: 1_700_000_010 }]);
    partner.failNext(1, 503);
    const callsBefore = partner.calls.length;

    const notify = () =>
      service.request('POST', '/v1/notifications', {
        headers: { 'IFTTT-Service-Key': partner.serviceKey },
        body: { data: [{ trigger_identity: 'ti_flaky' }] },
      });
    expect((await notify()).body).toEqual({ matched: 1, enqueued: 1 });
    await waitFor(
      'ti_flaky marked failing',
      async () => (await subscriptionState('ti_flaky')).consecutive_failures === 1,
    );
    const marked = await subscriptionState('ti_flaky');
    expect(marked.last_error).toMatch(/answered HTTP 503/);
    expect(marked.next_poll_at.getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect(failures).toEqual([]);
    expect(partner.calls.length - callsBefore).toBe(1);

    // A realtime notification polls at once whatever the backoff: the partner says it has news.
    expect((await notify()).body).toEqual({ matched: 1, enqueued: 1 });
    await waitFor(
      'events of ti_flaky stored',
      async () => (await service.storedEventIds('ti_flaky')).length === 1,
    );
    await waitFor(
      'ti_flaky healthy',
      async () => (await subscriptionState('ti_flaky')).consecutive_failures === 0,
    );
    expect(partner.calls.length - callsBefore).toBe(2);
  });

  it('completes a poll whose answer holds an event with a NUL, storing the other events (issue 7, item 6)', async () => {
    const { queue } = pollJobs(worker.ctx);
    const outcomes: { event: string; attempt: number; error?: string }[] = [];
    queue.events.on('completed', (event) => outcomes.push({ event: 'completed', attempt: event.attempt }));
    queue.events.on('failed', (event) => outcomes.push({ event: 'failed', ...event }));

    await service.subscribe('ti_nul', partner);
    partner.addEvents('ti_nul', [
      { id: 'n1', timestamp: 1_700_000_021, ingredients: { title: 'fine' } },
      { id: 'n2', timestamp: 1_700_000_022, ingredients: { title: `a${String.fromCharCode(0)}b` } },
      { id: 'n3', timestamp: 1_700_000_023, ingredients: { title: 'also fine' } },
    ]);
    const notified = await service.request('POST', '/v1/notifications', {
      headers: { 'IFTTT-Service-Key': partner.serviceKey },
      body: { data: [{ trigger_identity: 'ti_nul' }] },
    });
    expect(notified.body).toEqual({ matched: 1, enqueued: 1 });
    await waitFor('the poll of ti_nul to complete', () => outcomes.length > 0);
    expect(outcomes).toEqual([{ event: 'completed', attempt: 1 }]);
    expect(await service.storedEventIds('ti_nul')).toEqual(['n1', 'n3']);
  });

  it('completes a poll whose answer holds an event nested 100,000 levels deep, storing the other events', async () => {
    // JSON.parse reads it, but JSON.stringify overflows its stack on it (and Postgres refuses jsonb that deep
    // with 54001): before the platform's depth rule the INSERT threw on every attempt and no event was stored.
    const { queue } = pollJobs(worker.ctx);
    const outcomes: { event: string; attempt: number; error?: string }[] = [];
    queue.events.on('completed', (event) => outcomes.push({ event: 'completed', attempt: event.attempt }));
    queue.events.on('failed', (event) => outcomes.push({ event: 'failed', ...event }));

    await service.subscribe('ti_deep', partner);
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    partner.addEvents('ti_deep', [
      { id: 'd1', timestamp: 1_700_000_031, ingredients: { title: 'fine' } },
      { id: 'd2', timestamp: 1_700_000_032, rawIngredients: { nested: deep } },
      { id: 'd3', timestamp: 1_700_000_033, ingredients: { title: 'also fine' } },
    ]);
    const notified = await service.request('POST', '/v1/notifications', {
      headers: { 'IFTTT-Service-Key': partner.serviceKey },
      body: { data: [{ trigger_identity: 'ti_deep' }] },
    });
    expect(notified.body).toEqual({ matched: 1, enqueued: 1 });
    await waitFor('the poll of ti_deep to complete', () => outcomes.length > 0);
    expect(outcomes).toEqual([{ event: 'completed', attempt: 1 }]);
    expect(await service.storedEventIds('ti_deep')).toEqual(['d1', 'd3']);
  });

  it('marks a subscription whose key the partner rejects, without a dead letter nor a retry', async () => {
    const { queue } = pollJobs(worker.ctx);
    const revokedKey = 'sk_revoked_by_the_partner_0123456789';
    await service.subscribe('ti_revoked', { url: partner.url, serviceKey: revokedKey });
    const callsWithKey = (): number =>
      partner.calls.filter((c) => c.headers['ifttt-service-key'] === revokedKey).length;

    const notified = await service.request('POST', '/v1/notifications', {
      headers: { 'IFTTT-Service-Key': revokedKey },
      body: { data: [{ trigger_identity: 'ti_revoked' }] },
    });
    expect(notified.body).toEqual({ matched: 1, enqueued: 1 });
    await waitFor(
      'ti_revoked marked',
      async () => (await subscriptionState('ti_revoked')).consecutive_failures === 1,
    );
    const marked = await subscriptionState('ti_revoked');
    expect(marked.last_error).toMatch(/rejected the service key \(HTTP 401\)/);
    expect(marked.last_error).not.toContain(revokedKey);
    expect(marked.next_poll_at.getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect(await queue.listDead(POLL_QUEUE)).toEqual([]);
    expect(callsWithKey()).toBe(1);
    await waitFor('the poll queue drained', async () => {
      const stats = (await queue.stats([POLL_QUEUE]))[POLL_QUEUE];
      return stats.ready + stats.delayed + stats.leased === 0;
    });
  });
});

async function subscriptionState(triggerIdentity: string) {
  return service.db
    .selectFrom('trigger_subscriptions')
    .select(['consecutive_failures', 'last_error', 'next_poll_at'])
    .where('trigger_identity', '=', triggerIdentity)
    .executeTakeFirstOrThrow();
}
