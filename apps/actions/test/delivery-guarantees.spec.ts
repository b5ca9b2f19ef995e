import { randomUUID } from 'node:crypto';
import type { TriggerEventRecordedEvent } from '@ittd/engine-events';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimRun } from '../src/data/action-run-repository';
import { handleTriggerEvent, type EventHandlerDependencies } from '../src/events/engine-subscriptions';
import { actionJobs, enqueueRuns } from '../src/jobs/action-jobs';
import { ACTION_RUN_QUEUE } from '../src/jobs/action-run-job';
import { startActionsTestEnv, waitFor, type ActionsTestEnv } from './support/actions-test-env';
import { partnerSecurity } from '@ittd/platform';

let t: ActionsTestEnv;

function callsOf(appletId: string) {
  return t.partner.actions.calls.filter(
    (call) => (call.body as { ifttt_source?: { id?: string } }).ifttt_source?.id === appletId,
  );
}

function finishedOf(appletId: string) {
  return t.finished.filter((received) => received.event.applet_id === appletId);
}

async function appletOn(appletId: string, triggerIdentity: string): Promise<void> {
  await t.publishApplet({
    applet_id: appletId,
    trigger: { service: 'weather', slug: 'rain', fields: {}, trigger_identity: triggerIdentity },
  });
  await waitFor(`applet ${appletId} copied`, async () => (await t.appletVersion(appletId)) === 1);
}

function recorded(triggerIdentity: string, eventId: string): TriggerEventRecordedEvent {
  return {
    trigger_identity: triggerIdentity,
    service: 'weather',
    trigger: 'rain',
    event_id: eventId,
    ingredients: { City: 'Kyiv' },
    occurred_at: '2026-11-30T09:00:00.000Z',
    recorded_at: '2026-11-30T09:00:01.000Z',
  };
}

beforeAll(async () => {
  t = await startActionsTestEnv({
    ACTION_MAX_ATTEMPTS: '2',
    PARTNER_TIMEOUT_MS: '300',
    PARTNER_RATE_LIMIT: '2',
    PARTNER_RATE_WINDOW_MS: '1000',
  });
  await t.publishPartner('fake');
  await waitFor(
    'partner copied',
    async () => (await t.db.selectFrom('partner_services').select('slug').executeTakeFirst()) !== undefined,
  );
});

afterAll(async () => {
  await t?.stop();
});

describe('actions: nothing lost, nothing twice', () => {
  it('loses no run when the enqueue fails after the commit: the redelivery enqueues it', async () => {
    await appletOn('a-crash', 'ti-crash');
    const jobs = actionJobs(t.worker.ctx);
    let enqueueFails = true;
    const deps: EventHandlerDependencies = {
      db: t.worker.ctx.db,
      logger: t.worker.ctx.logger,
      security: partnerSecurity(t.worker.ctx),
      // Stands for the process dying (or Redis failing) between the Postgres commit and the enqueue.
      enqueue: async (runs) => {
        if (enqueueFails) throw new Error('Redis connection lost');
        return enqueueRuns(jobs, runs);
      },
    };
    const context = { eventId: randomUUID(), requestId: 'req-crash' };
    const event = recorded('ti-crash', 'evt-1');

    await expect(handleTriggerEvent(deps, event, context)).rejects.toThrow('Redis connection lost');
    const [run] = await t.db
      .selectFrom('action_runs')
      .selectAll()
      .where('applet_id', '=', 'a-crash')
      .execute();
    expect(run).toMatchObject({ status: 'pending', attempts: 0, finished_at: null });
    const waiting = await jobs.queue.listWaiting(ACTION_RUN_QUEUE);
    expect(waiting.filter((job) => (job.payload as { run_id: string }).run_id === run.id)).toEqual([]);

    // The subscription delivers the event again (same event id): the inbox skips creating, the run is enqueued.
    enqueueFails = false;
    await handleTriggerEvent(deps, event, context);
    await waitFor('run finished', () => finishedOf('a-crash').length === 1);
    expect(finishedOf('a-crash')[0]).toMatchObject({
      requestId: 'req-crash',
      event: { status: 'success', run_id: run.id },
    });
    expect(callsOf('a-crash').map((call) => call.headers['x-request-id'])).toEqual(['req-crash']);
    expect(
      await t.db.selectFrom('action_runs').select('id').where('applet_id', '=', 'a-crash').execute(),
    ).toHaveLength(1);

    // Delivered once more after the end: nothing is pending, nothing enqueued; a stray job finds the run ended.
    const enqueued: number[] = [];
    await handleTriggerEvent(
      { ...deps, enqueue: async (runs) => enqueued.push(runs.length) },
      event,
      context,
    );
    expect(enqueued).toEqual([0]);
    await jobs.actionRun.handler(
      { run_id: run.id, request_id: 'req-crash' },
      {
        id: randomUUID(),
        name: 'action-run',
        queue: ACTION_RUN_QUEUE,
        attempt: 1,
        maxAttempts: 5,
        signal: new AbortController().signal,
      },
    );
    expect(callsOf('a-crash')).toHaveLength(1);
    expect(finishedOf('a-crash')).toHaveLength(1);
  });

  it('lets one job at a time call the partner for a run (claim)', async () => {
    await appletOn('a-claim', 'ti-claim');
    t.partner.actions.hang = true;
    try {
      await t.publishTriggerEvent('ti-claim', 'evt-1', {});
      await waitFor('first call', () => callsOf('a-claim').length === 1);
      const [run] = await t.db
        .selectFrom('action_runs')
        .select('id')
        .where('applet_id', '=', 'a-claim')
        .execute();
      expect(await claimRun(t.db, run.id, 60_000)).toBeUndefined();
    } finally {
      t.partner.actions.hang = false;
    }
  });

  it('retries a partner that does not answer in time, then fails the run', async () => {
    await waitFor('claim test run ended', () => finishedOf('a-claim').length === 1);
    // ACTION_MAX_ATTEMPTS is 2: the hanging first call timed out, the second was answered.
    expect(finishedOf('a-claim')[0].event).toMatchObject({ status: 'success', attempts: 2 });
    await appletOn('a-hang', 'ti-hang');
    t.partner.actions.hang = true;
    try {
      await t.publishTriggerEvent('ti-hang', 'evt-1', {});
      await waitFor('run finished', () => finishedOf('a-hang').length === 1);
    } finally {
      t.partner.actions.hang = false;
    }
    const { event } = finishedOf('a-hang')[0];
    expect(event).toMatchObject({ status: 'failed', attempts: 2 });
    expect(event.message).toMatch(/did not answer within 300 ms.*gave up after 2 attempts/);
    expect(callsOf('a-hang')).toHaveLength(2);
  });

  it('delays runs over the partner rate limit, and drops none', async () => {
    const applets = ['a-rate-1', 'a-rate-2', 'a-rate-3', 'a-rate-4', 'a-rate-5'];
    for (const id of applets) await appletOn(id, 'ti-rate');
    await t.publishTriggerEvent('ti-rate', 'evt-1', { City: 'Quito' });
    await waitFor('five runs finished', () => applets.every((id) => finishedOf(id).length === 1), 20_000);
    for (const id of applets) {
      expect(finishedOf(id)[0].event).toMatchObject({ status: 'success', attempts: 1 });
      expect(callsOf(id)).toHaveLength(1);
    }
    const limited = t.worker.ctx.metrics.getSingleMetric('actions_rate_limited_total') as Counter<'service'>;
    const values = (await limited.get()).values.filter((value) => value.labels.service === 'fake');
    // Five runs started together fall into at most two windows of two calls each: at least one had to wait.
    expect(values.reduce((sum, value) => sum + value.value, 0)).toBeGreaterThanOrEqual(1);
  });
});
