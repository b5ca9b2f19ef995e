import { appletChanged } from '@ittd/engine-events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEntry, ActivityPage } from '../src/domain/activity';
import type { Applet } from '../src/domain/applet';
import { startActionRunPublisher, type ActionRunPublisher } from './support/action-run-publisher';
import { startAppletsTestService, type AppletsTestService } from './support/applets-test-service';
import { deliveredCount, waitFor } from './support/wait-for';

const AUTO_DISABLE_AFTER = 3;

let service: AppletsTestService;
let actions: ActionRunPublisher;
let ada: { id: string; token: string };
let bob: { id: string; token: string };
/** Runs published so far: the subscription has handled them all once `delivered` reaches this. */
let published = 0;

const validApplet = {
  trigger: { service: 'weather', slug: 'rain_tomorrow', fields: { city: 'Berlin' } },
  action: { service: 'slack', slug: 'post_message', fields: { text: 'Rain in {{City}}' } },
};

beforeAll(async () => {
  service = await startAppletsTestService({ AUTO_DISABLE_AFTER_FAILURES: String(AUTO_DISABLE_AFTER) });
  actions = await startActionRunPublisher(service.eventsPrefix);
  await service.registerService('weather');
  await service.registerService('slack');
  ada = await service.createUser('ada');
  bob = await service.createUser('bob');
});

afterAll(async () => {
  await actions?.close();
  await service?.stop();
});

async function delivered(): Promise<number> {
  return deliveredCount(service.metrics, 'action-run.finished', 'applets');
}

/** Waits until the subscription has handled `count` deliveries in all. */
async function handled(count: number): Promise<void> {
  await waitFor(`${count} action-run.finished deliveries handled`, async () => (await delivered()) >= count);
}

/** Publishes runs one after another (in order) and waits until applets handled them. */
async function publishRuns(
  runs: Parameters<ActionRunPublisher['publishRun']>[0][],
): Promise<Awaited<ReturnType<ActionRunPublisher['publishRun']>>[]> {
  const events = [];
  for (const run of runs) events.push(await actions.publishRun(run));
  published += runs.length;
  await handled(published);
  return events;
}

async function createApplet(token = ada.token): Promise<Applet> {
  const created = await service.request('POST', '/v1/applets', { token, body: validApplet });
  expect(created.status).toBe(201);
  return created.body as Applet;
}

async function activity(appletId: string, query = '', token = ada.token) {
  return service.request('GET', `/v1/applets/${appletId}/activity${query}`, { token });
}

async function getApplet(id: string): Promise<Applet> {
  const response = await service.request('GET', `/v1/applets/${id}`, { token: ada.token });
  expect(response.status).toBe(200);
  return response.body as Applet;
}

describe('activity', () => {
  it("records each run and shows it to the applet's owner, newest first", async () => {
    const applet = await createApplet();
    const [success, skipped] = await publishRuns([
      { applet_id: applet.id, status: 'success', partner_record_id: 'msg_9', duration_ms: 84 },
      { applet_id: applet.id, status: 'skipped', message: 'channel archived', attempts: 1 },
    ]);
    const response = await activity(applet.id);
    expect(response.status).toBe(200);
    const page = response.body as ActivityPage;
    expect(page.next_cursor).toBeNull();
    expect(page.data).toEqual([
      {
        run_id: skipped?.run_id,
        trigger_event_id: skipped?.trigger_event_id,
        status: 'skipped',
        partner_record_id: null,
        message: 'channel archived',
        attempts: 1,
        duration_ms: 84,
        started_at: skipped?.started_at,
        finished_at: skipped?.finished_at,
      },
      {
        run_id: success?.run_id,
        trigger_event_id: success?.trigger_event_id,
        status: 'success',
        partner_record_id: 'msg_9',
        message: null,
        attempts: 1,
        duration_ms: 84,
        started_at: success?.started_at,
        finished_at: success?.finished_at,
      },
    ] satisfies ActivityEntry[]);
  });

  it('keeps one entry per run under redelivery and when a run is reported again', async () => {
    const applet = await createApplet();
    const [run] = await publishRuns([{ applet_id: applet.id, status: 'success', partner_record_id: 'a1' }]);
    const before = (await activity(applet.id)).body as ActivityPage;
    expect(before.data).toHaveLength(1);

    // Every relayed event again, with the same event ids (what a relay crash between XADD and mark does).
    const again = await actions.relayAgain();
    expect(again).toBe(published);
    published += again;
    await handled(published);
    expect(((await activity(applet.id)).body as ActivityPage).data).toEqual(before.data);

    // The same run reported by a new event (a new event id): updates the entry, still one.
    await publishRuns([
      {
        ...run,
        applet_id: applet.id,
        status: 'failed',
        partner_record_id: null,
        message: 'HTTP 503',
        attempts: 5,
        finished_at: new Date(Date.parse(run?.finished_at ?? '') + 500).toISOString(),
      },
    ]);
    const after = ((await activity(applet.id)).body as ActivityPage).data;
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({
      run_id: run?.run_id,
      status: 'failed',
      message: 'HTTP 503',
      attempts: 5,
    });
    const rows = await service.db
      .selectFrom('applet_activity')
      .select('run_id')
      .where('applet_id', '=', applet.id)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('pages newest first by finished_at then run_id, with ties split by run_id', async () => {
    const applet = await createApplet();
    const tie = '2026-12-01T00:00:00.000Z';
    const runs = await publishRuns([
      { applet_id: applet.id, run_id: 'run-a', finished_at: '2026-12-01T00:00:01.000Z' },
      { applet_id: applet.id, run_id: 'run-b', finished_at: tie },
      { applet_id: applet.id, run_id: 'run-c', finished_at: tie },
      { applet_id: applet.id, run_id: 'run-d', finished_at: '2026-11-30T23:59:59.999Z' },
      { applet_id: applet.id, run_id: 'run-e', finished_at: '2026-12-01T00:00:02.000Z' },
    ]);
    expect(runs).toHaveLength(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pageNumber = 0; pageNumber < 10; pageNumber += 1) {
      const query = `?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const response = await activity(applet.id, query);
      expect(response.status).toBe(200);
      const page = response.body as ActivityPage;
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((entry) => entry.run_id));
      cursor = page.next_cursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(['run-e', 'run-a', 'run-c', 'run-b', 'run-d']);
    const all = (await activity(applet.id, '?limit=100')).body as ActivityPage;
    expect(all.data.map((entry) => entry.run_id)).toEqual(seen);
    expect(all.next_cursor).toBeNull();
  });

  it("answers 404 for another user's applet or an id that cannot exist, 401 without a token", async () => {
    const applet = await createApplet();
    await publishRuns([{ applet_id: applet.id, status: 'success' }]);
    for (const response of [
      await activity(applet.id, '', bob.token),
      await activity('999999999'),
      await activity('not-an-id'),
    ]) {
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await service.request('GET', `/v1/applets/${applet.id}/activity`)).status).toBe(401);
  });

  it('refuses a bad cursor or limit with a 400 naming the field', async () => {
    const applet = await createApplet();
    const listCursor = (
      (await service.request('GET', '/v1/applets?limit=1', { token: ada.token })).body as {
        next_cursor: string;
      }
    ).next_cursor;
    for (const [query, field] of [
      ['?cursor=garbage', 'cursor'],
      [`?cursor=${listCursor}`, 'cursor'],
      [`?cursor=${'a'.repeat(1001)}`, 'cursor'],
      ['?cursor=%00', 'cursor'],
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=abc', 'limit'],
      ['?limit=1&limit=2', 'limit'],
    ] as const) {
      const response = await activity(applet.id, query);
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect((response.body as { errors: { name: string }[] }).errors.map((e) => e.name)).toEqual([field]);
    }
  });

  it('ignores runs of a deleted applet and goes on with the next events', async () => {
    const gone = await createApplet();
    const kept = await createApplet();
    expect((await service.request('DELETE', `/v1/applets/${gone.id}`, { token: ada.token })).status).toBe(
      204,
    );
    await publishRuns([
      { applet_id: gone.id, status: 'failed', message: 'late' },
      { applet_id: '424242424242', status: 'success' },
      { applet_id: kept.id, status: 'success' },
    ]);
    const rows = await service.db
      .selectFrom('applet_activity')
      .select('applet_id')
      .where('applet_id', 'in', [gone.id, '424242424242'])
      .execute();
    expect(rows).toEqual([]);
    expect(((await activity(kept.id)).body as ActivityPage).data).toHaveLength(1);
  });
});

describe('auto-disable', () => {
  it(`disables an applet whose last ${AUTO_DISABLE_AFTER} runs failed, says why, and re-enabling clears it`, async () => {
    const applet = await createApplet();
    await publishRuns([
      { applet_id: applet.id, status: 'failed', message: 'HTTP 500' },
      { applet_id: applet.id, status: 'failed', message: 'HTTP 500' },
      { applet_id: applet.id, status: 'success' },
      { applet_id: applet.id, status: 'failed', message: 'HTTP 500' },
      { applet_id: applet.id, status: 'failed', message: 'HTTP 502' },
    ]);
    expect(await getApplet(applet.id)).toMatchObject({ enabled: true, disabled_reason: null });

    await publishRuns([{ applet_id: applet.id, status: 'failed', message: 'HTTP 401: bad key' }]);
    const disabled = await getApplet(applet.id);
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabled_reason).toBe(
      'disabled after 3 failed runs in a row; last error: HTTP 401: bad key',
    );
    const events = (await service.outbox(appletChanged)).filter((each) => each.event.applet_id === applet.id);
    expect(events.at(-1)?.event).toMatchObject({
      change: 'disabled',
      enabled: false,
      version: 2,
      disabled_reason: disabled.disabled_reason,
    });
    expect(events.at(-1)?.requestId).toMatch(/^req-/);
    const listed = (await service.request('GET', '/v1/applets?limit=100', { token: ada.token })).body as {
      data: Applet[];
    };
    expect(listed.data.find((each) => each.id === applet.id)?.disabled_reason).toBe(disabled.disabled_reason);

    // More failures of an applet already off change nothing.
    await publishRuns([{ applet_id: applet.id, status: 'failed', message: 'again' }]);
    expect(
      (await service.outbox(appletChanged)).filter((each) => each.event.applet_id === applet.id),
    ).toHaveLength(events.length);

    const enabled = await service.request('PATCH', `/v1/applets/${applet.id}`, {
      token: ada.token,
      body: { enabled: true },
    });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
    const after = (await service.outbox(appletChanged)).filter((each) => each.event.applet_id === applet.id);
    expect(after.at(-1)?.event).toMatchObject({
      change: 'enabled',
      enabled: true,
      disabled_reason: null,
      version: 3,
    });

    // The count starts again: the failures before the user enabled it do not count.
    await publishRuns([
      { applet_id: applet.id, status: 'failed', message: 'x' },
      { applet_id: applet.id, status: 'failed', message: 'x' },
    ]);
    expect(await getApplet(applet.id)).toMatchObject({ enabled: true, disabled_reason: null });
    await publishRuns([{ applet_id: applet.id, status: 'failed', message: 'x'.repeat(2000) }]);
    const again = await getApplet(applet.id);
    expect(again.enabled).toBe(false);
    expect(again.disabled_reason?.length).toBeLessThan(1000);
  });

  it('leaves an applet the user switched off alone', async () => {
    const applet = await createApplet();
    await service.request('PATCH', `/v1/applets/${applet.id}`, {
      token: ada.token,
      body: { enabled: false },
    });
    await publishRuns(
      [1, 2, 3, 4].map(() => ({ applet_id: applet.id, status: 'failed' as const, message: 'x' })),
    );
    expect(await getApplet(applet.id)).toMatchObject({ enabled: false, disabled_reason: null });
  });
});
