import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '@ittd/platform';
import type { configSchema } from '../src/config';
import type { DB } from '../src/data/database';
import { pollJobs } from '../src/jobs/poll-jobs';
import { POLL_MAX_ATTEMPTS, POLL_QUEUE } from '../src/jobs/poll-trigger-job';
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
  });

  it('retries a poll the partner answers 503 and records its events once it recovers', async () => {
    const { queue } = pollJobs(worker.ctx);
    const failures: string[] = [];
    queue.events.on('failed', (event) => failures.push(event.error));

    await service.subscribe('ti_flaky', partner);
    partner.addEvents('ti_flaky', [{ id: 'f1', timestamp: 1_700_000_010 }]);
    partner.failNext(2, 503);
    const callsBefore = partner.calls.length;

    const notified = await service.request('POST', '/v1/notifications', {
      headers: { 'IFTTT-Service-Key': partner.serviceKey },
      body: { data: [{ trigger_identity: 'ti_flaky' }] },
    });
    expect(notified.body).toEqual({ matched: 1, enqueued: 1 });
    await waitFor(
      'events of ti_flaky stored',
      async () => (await service.storedEventIds('ti_flaky')).length === 1,
    );
    expect(failures.filter((error) => /answered HTTP 503/.test(error))).toHaveLength(2);
    expect(partner.calls.length - callsBefore).toBe(3);
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

  it('dead-letters a poll at once, without retries, when the partner rejects the service key', async () => {
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
    const deadPoll = async () =>
      (await queue.listDead(POLL_QUEUE)).find(
        (job) => (job.payload as { trigger_identity?: string }).trigger_identity === 'ti_revoked',
      );
    await waitFor('the poll of ti_revoked to be dead', async () => (await deadPoll()) !== undefined);

    // Retried, it would have spent its attempts (POLL_RETRY_BASE_MS is 50 here) before reaching the dead letters.
    expect(POLL_MAX_ATTEMPTS).toBeGreaterThan(1);
    const dead = await deadPoll();
    expect(dead?.attempts).toBe(1);
    expect(dead?.failures).toHaveLength(1);
    expect(dead?.failures[0].error).toMatch(
      /^PermanentJobError: partner .* rejected the service key \(HTTP 401\)/,
    );
    expect(dead?.failures[0].error).not.toContain(revokedKey);
    expect(callsWithKey()).toBe(1);
    expect((await queue.stats([POLL_QUEUE]))[POLL_QUEUE]).toMatchObject({ ready: 0, delayed: 0, leased: 0 });
  });
});
