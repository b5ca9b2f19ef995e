import { createServer } from 'node:net';
import type { FakeActionCall } from '@ittd/service-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startActionsTestEnv,
  waitFor,
  type ActionsTestEnv,
  type ReceivedFinished,
} from './support/actions-test-env';

let t: ActionsTestEnv;

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The action calls the fake received for one applet (`ifttt_source.id`). */
function callsOf(appletId: string): FakeActionCall[] {
  return t.partner.actions.calls.filter(
    (call) => (call.body as { ifttt_source?: { id?: string } }).ifttt_source?.id === appletId,
  );
}

/** The `action-run.finished` events received for one applet. */
function finishedOf(appletId: string): ReceivedFinished[] {
  return t.finished.filter((received) => received.event.applet_id === appletId);
}

/** Publishes an enabled applet and waits until the service's copy has it. */
async function appletOn(appletId: string, triggerIdentity: string, overrides = {}): Promise<void> {
  const event = await t.publishApplet({
    applet_id: appletId,
    trigger: { service: 'weather', slug: 'rain', fields: {}, trigger_identity: triggerIdentity },
    ...overrides,
  });
  await waitFor(`applet ${appletId} copied`, async () => (await t.appletVersion(appletId)) === event.version);
}

beforeAll(async () => {
  t = await startActionsTestEnv({ ACTION_MAX_ATTEMPTS: '3' });
  await t.publishPartner('fake');
  await waitFor(
    'partner copied',
    async () =>
      (await t.db
        .selectFrom('partner_services')
        .select('slug')
        .where('slug', '=', 'fake')
        .executeTakeFirst()) !== undefined,
  );
});

afterAll(async () => {
  await t?.stop();
});

describe('actions: a trigger event runs the actions of the enabled applets on its identity', () => {
  it('calls the partner with the ingredients filled, the request id, and keeps the partner record id', async () => {
    const where = { lat: 52.52, lng: 13.405, address: 'Berlin {{City}}' };
    await appletOn('a-success', 'ti-success', {
      user: { id: 'user-7', timezone: 'America/New_York' },
      action: {
        service: 'fake',
        slug: 'post_message',
        fields: { text: 'Rain in {{City}} at {{CreatedAt}} ({{Missing}})', where },
      },
    });
    await t.publishTriggerEvent(
      'ti-success',
      'evt-1',
      { City: 'Berlin', created_at: '2026-11-30' },
      'req-success-1',
    );
    await waitFor('run finished', () => finishedOf('a-success').length === 1);

    const [call] = callsOf('a-success');
    expect(call.actionSlug).toBe('post_message');
    expect(call.body).toEqual({
      actionFields: { text: 'Rain in Berlin at 2026-11-30 ()', where },
      user: { timezone: 'America/New_York' },
      ifttt_source: { id: 'a-success', url: 'https://ittd.example/applets/a-success' },
    });
    expect(call.headers['x-request-id']).toBe('req-success-1');
    expect(call.headers['ifttt-service-key']).toBe(t.partner.serviceKey);
    expect(t.partner.requestProblems).toEqual([]);

    const [{ event, requestId }] = finishedOf('a-success');
    const recordId = t.partner.actions.recordIds[t.partner.actions.recordIds.length - 1];
    expect(event).toMatchObject({
      applet_id: 'a-success',
      user_id: 'user-7',
      trigger_identity: 'ti-success',
      trigger_event_id: 'evt-1',
      action: { service: 'fake', slug: 'post_message' },
      status: 'success',
      partner_record_id: recordId,
      message: null,
      attempts: 1,
    });
    expect(requestId).toBe('req-success-1');
    expect(Date.parse(event.finished_at)).toBeGreaterThanOrEqual(Date.parse(event.started_at));
    const row = await t.db
      .selectFrom('action_runs')
      .selectAll()
      .where('id', '=', event.run_id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'success',
      partner_record_id: recordId,
      attempts: 1,
      request_id: 'req-success-1',
    });
    expect(row.duration_ms).toBe(event.duration_ms);
  });

  it('records a SKIP at once, with the partner message, after one call', async () => {
    await appletOn('a-skip', 'ti-skip');
    t.partner.actions.skipNext(1, 'channel archived');
    await t.publishTriggerEvent('ti-skip', 'evt-1', { City: 'Paris' });
    await waitFor('run finished', () => finishedOf('a-skip').length === 1);
    expect(finishedOf('a-skip')[0].event).toMatchObject({
      status: 'skipped',
      message: 'channel archived',
      attempts: 1,
      partner_record_id: null,
    });
    expect(callsOf('a-skip')).toHaveLength(1);
  });

  it('retries a 503 and succeeds', async () => {
    await appletOn('a-503', 'ti-503');
    t.partner.actions.failNext(2, 503);
    await t.publishTriggerEvent('ti-503', 'evt-1', { City: 'Rome' }, 'req-503');
    await waitFor('run finished', () => finishedOf('a-503').length === 1);
    expect(finishedOf('a-503')[0].event).toMatchObject({ status: 'success', attempts: 3 });
    const calls = callsOf('a-503');
    expect(calls).toHaveLength(3);
    expect(calls.map((call) => call.headers['x-request-id'])).toEqual(['req-503', 'req-503', 'req-503']);
  });

  it('fails a run whose service key the partner rejects (401) without retrying', async () => {
    await t.publishPartner('badkey', { serviceKey: 'sk_revoked_0123456789abcdef' });
    await appletOn('a-401', 'ti-401', {
      action: { service: 'badkey', slug: 'post_message', fields: { text: 'x' } },
    });
    await t.publishTriggerEvent('ti-401', 'evt-1', {});
    await waitFor('run finished', () => finishedOf('a-401').length === 1);
    const { event } = finishedOf('a-401')[0];
    expect(event).toMatchObject({ status: 'failed', attempts: 1, action: { service: 'badkey' } });
    expect(event.message).toContain('rejected the service key (HTTP 401)');
    expect(callsOf('a-401')).toHaveLength(1);
    expect(event.message).not.toContain('sk_revoked');
  });

  it('retries an unreachable partner, then fails the run after ACTION_MAX_ATTEMPTS', async () => {
    await t.publishPartner('gone', { url: `http://127.0.0.1:${await closedPort()}` });
    await appletOn('a-gone', 'ti-gone', {
      action: { service: 'gone', slug: 'post_message', fields: { text: 'x' } },
    });
    await t.publishTriggerEvent('ti-gone', 'evt-1', {});
    await waitFor('run finished', () => finishedOf('a-gone').length === 1);
    const { event } = finishedOf('a-gone')[0];
    expect(event).toMatchObject({ status: 'failed', attempts: 3 });
    expect(event.message).toMatch(/could not be reached.*gave up after 3 attempts/);
  });

  it('runs a trigger event published twice once', async () => {
    await appletOn('a-twice', 'ti-twice');
    await t.publishTriggerEvent('ti-twice', 'evt-1', { City: 'Oslo' });
    await t.publishTriggerEvent('ti-twice', 'evt-1', { City: 'Oslo' });
    await waitFor('run finished', () => finishedOf('a-twice').length === 1);
    // A third event on the identity, published after both: once it ran, both copies were taken in.
    await t.publishTriggerEvent('ti-twice', 'evt-2', { City: 'Oslo' });
    await waitFor('second run finished', () => finishedOf('a-twice').length === 2);
    expect(
      finishedOf('a-twice')
        .map((f) => f.event.trigger_event_id)
        .sort(),
    ).toEqual(['evt-1', 'evt-2']);
    expect(callsOf('a-twice')).toHaveLength(2);
    const rows = await t.db
      .selectFrom('action_runs')
      .select('id')
      .where('applet_id', '=', 'a-twice')
      .execute();
    expect(rows).toHaveLength(2);
  });

  it('runs every enabled applet on the identity, and no disabled one (newest version wins)', async () => {
    await appletOn('a-both-1', 'ti-shared');
    await appletOn('a-both-2', 'ti-shared', {
      action: { service: 'fake', slug: 'send_sms', fields: { body: '{{City}}' } },
    });
    await appletOn('a-off', 'ti-shared', { version: 2, enabled: false, change: 'disabled' });
    // An older version that was enabled arrives late: it must not switch the applet back on.
    await t.publishApplet({
      applet_id: 'a-off',
      version: 1,
      trigger: { service: 'weather', slug: 'rain', fields: {}, trigger_identity: 'ti-shared' },
    });
    await appletOn('a-deleted', 'ti-shared');
    await appletOn('a-deleted', 'ti-shared', { version: 2, change: 'deleted', enabled: false });

    await t.publishTriggerEvent('ti-shared', 'evt-1', { City: 'Lima' });
    await waitFor(
      'both runs finished',
      () => finishedOf('a-both-1').length + finishedOf('a-both-2').length === 2,
    );
    expect(callsOf('a-both-1')).toHaveLength(1);
    expect(callsOf('a-both-2').map((call) => [call.actionSlug, call.body])).toEqual([
      ['send_sms', expect.objectContaining({ actionFields: { body: 'Lima' } })],
    ]);
    expect(await t.appletVersion('a-off')).toBe(2);
    const runs = await t.db
      .selectFrom('action_runs')
      .select('applet_id')
      .where('trigger_identity', '=', 'ti-shared')
      .execute();
    expect(runs.map((run) => run.applet_id).sort()).toEqual(['a-both-1', 'a-both-2']);
    expect(callsOf('a-off')).toEqual([]);
    expect(callsOf('a-deleted')).toEqual([]);
  });

  it('waits for the applet.changed an event was recorded against, and runs only the applets it lists', async () => {
    await appletOn('a-behind', 'ti-order', {
      action: { service: 'fake', slug: 'post', fields: { text: 'v1' } },
    });
    // Enabled here, but not listed: it was enabled after trigger-poller recorded the event.
    await appletOn('a-unlisted', 'ti-order');
    // Recorded when trigger-poller had applied version 2 of a-behind and version 1 of a-new; actions has
    // version 1 of the first and nothing of the second yet (their applet.changed are still on the way).
    await t.publishTriggerEvent('ti-order', 'evt-order', { City: 'Rome' }, 'req-order', [
      { applet_id: 'a-behind', version: 2 },
      { applet_id: 'a-new', version: 1 },
    ]);
    await t.publishApplet({
      applet_id: 'a-behind',
      version: 2,
      trigger: { service: 'weather', slug: 'rain', fields: {}, trigger_identity: 'ti-order' },
      action: { service: 'fake', slug: 'post', fields: { text: 'v2 {{City}}' } },
    });
    await t.publishApplet({
      applet_id: 'a-new',
      trigger: { service: 'weather', slug: 'rain', fields: {}, trigger_identity: 'ti-order' },
    });
    await waitFor(
      'both listed runs finished',
      () => finishedOf('a-behind').length + finishedOf('a-new').length === 2,
    );
    // It ran against the copy it was recorded against, not the older one it found first.
    expect(callsOf('a-behind').map((call) => call.body)).toEqual([
      expect.objectContaining({ actionFields: { text: 'v2 Rome' } }),
    ]);
    expect(callsOf('a-new')).toHaveLength(1);
    const runs = await t.db
      .selectFrom('action_runs')
      .select('applet_id')
      .where('trigger_identity', '=', 'ti-order')
      .execute();
    expect(runs.map((run) => run.applet_id).sort()).toEqual(['a-behind', 'a-new']);
    expect(callsOf('a-unlisted')).toEqual([]);
  });

  it("lists an applet's runs for operators, newest first, page by page, without keys", async () => {
    await appletOn('a-pages', 'ti-pages');
    for (const id of ['evt-1', 'evt-2', 'evt-3']) await t.publishTriggerEvent('ti-pages', id, { City: id });
    await waitFor('three runs finished', () => finishedOf('a-pages').length === 3);

    expect((await t.get('/admin/applets/a-pages/runs', 'wrong-token-0123456789abcdef')).status).toBe(401);
    const first = await t.get('/admin/applets/a-pages/runs?limit=2');
    expect(first.status).toBe(200);
    const page1 = first.body as { data: { trigger_event_id: string; status: string }[]; next_cursor: string };
    expect(page1.data).toHaveLength(2);
    const second = await t.get(`/admin/applets/a-pages/runs?limit=2&cursor=${page1.next_cursor}`);
    const page2 = second.body as { data: { trigger_event_id: string }[]; next_cursor: string | null };
    expect(page2.next_cursor).toBeNull();
    const seen = [...page1.data, ...page2.data].map((run) => run.trigger_event_id);
    expect(new Set(seen).size).toBe(3);
    expect(page1.data.every((run) => run.status === 'success')).toBe(true);
    expect(JSON.stringify([first.body, second.body])).not.toContain(t.partner.serviceKey);

    const bad = await t.get('/admin/applets/a-pages/runs?cursor=bm90LWEtY3Vyc29y');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('cursor');
    expect((await t.get('/admin/applets/a-pages/runs?limit=0')).status).toBe(400);
    expect((await t.get('/admin/applets/nobody/runs')).status).toBe(404);
    expect((await t.get('/admin/applets/nobody')).status).toBe(404);
    // A known applet: its copy (what applet.changed said), never the action fields' secrets nor a key.
    const copy = await t.get('/admin/applets/a-pages');
    expect(copy).toMatchObject({
      status: 200,
      body: { applet_id: 'a-pages', enabled: true, deleted: false, trigger_identity: 'ti-pages' },
    });
  });

  it('published action-run.finished exactly once per ended run', async () => {
    const ended = await t.db
      .selectFrom('action_runs')
      .select('id')
      .where('finished_at', 'is not', null)
      .execute();
    expect(ended.length).toBeGreaterThan(8);
    const runIds = t.finished.map((received) => received.event.run_id);
    expect(runIds.sort()).toEqual(ended.map((row) => row.id).sort());
    const pending = await t.db
      .selectFrom('action_runs')
      .select('id')
      .where('finished_at', 'is', null)
      .execute();
    expect(pending).toEqual([]);
  });
});
