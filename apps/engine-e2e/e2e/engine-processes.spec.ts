import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEngineProcesses, WORKSPACE_ROOT, type EngineProcesses } from '../src/engine-processes';
import { eventually } from '@ittd/platform/testing';
import { jsonClient, type JsonClient } from '../src/json-client';

/** An action call the sandbox recorded (`GET /control/actions/{slug}/records`). */
interface SandboxRecord {
  id: string;
  request: { actionFields: Record<string, string>; user?: { timezone?: string } };
  requestId: string;
  receivedAt: string;
}

/** An entry of `GET /v1/applets/:id/activity`. */
interface ActivityEntry {
  run_id: string;
  trigger_event_id: string;
  status: string;
  partner_record_id: string | null;
  message: string | null;
  attempts: number;
}

/**
 * The engine end to end as separate processes from the bundles (`node dist/apps/<service>/main.js`):
 * applets, trigger-poller (web + worker), actions (web + worker) and partner-sandbox, each on its own database
 * and Redis key prefix (one shared EVENTS_PREFIX), driven only through their HTTP APIs and the sandbox's
 * control API. The one exception: a read of actions' database to know when its copy of a disabled applet
 * caught up, so the "does not fire" check has a point to wait for (no API shows that copy).
 *
 * The steps build on each other (one engine, one user), so they are one ordered sequence of `it`s.
 */
describe('the engine as separate processes against partner-sandbox', () => {
  let engine: EngineProcesses;
  let applets: JsonClient;
  let triggerPoller: JsonClient;
  let actions: JsonClient;
  let sandbox: JsonClient;
  let token: string;
  let appletId: string;
  let triggerIdentity: string;
  let failed = false;

  beforeAll(async () => {
    const missing = ['applets', 'trigger-poller', 'actions', 'partner-sandbox'].filter(
      (service) => !existsSync(join(WORKSPACE_ROOT, 'dist/apps', service, 'main.js')),
    );
    if (missing.length > 0) {
      throw new Error(
        `no bundle of ${missing.join(', ')}: run \`npm run e2e\` (it bundles first) or \`npx nx run-many -t bundle\``,
      );
    }
    engine = await startEngineProcesses({
      from: 'bundle',
      isolation: 'unique',
      env: {
        'trigger-poller': { POLL_RETRY_BASE_MS: '50', IDENTITY_DELETE_RETRY_BASE_MS: '50' },
        actions: { ACTION_RETRY_BASE_MS: '50', PARTNER_TIMEOUT_MS: '5000' },
      },
    });
    applets = jsonClient(engine.url('applets'));
    triggerPoller = jsonClient(engine.url('trigger-poller'));
    actions = jsonClient(engine.url('actions'));
    sandbox = jsonClient(engine.url('partner-sandbox'));
  }, 120_000);

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      failed = true;
    });
  });

  afterAll(async () => {
    if (failed && engine) console.error(`engine-e2e: the processes' output is kept in ${engine.logDir}`);
    await engine?.stop({ keepLogs: failed });
  }, 60_000);

  const adminOf = (service: 'applets' | 'trigger-poller' | 'actions'): string =>
    engine.env[service].ADMIN_TOKEN;
  const control = (): string => engine.env['partner-sandbox'].CONTROL_TOKEN;

  /** Makes the sandbox produce a `new_item` event; answers its `meta.id`. */
  async function sandboxEvent(list: string, title: string): Promise<string> {
    const answer = await sandbox.request('POST', '/control/triggers/new_item/events', {
      token: control(),
      body: { list, title },
    });
    expect(answer.status).toBe(201);
    return (answer.body as { event: { meta: { id: string } } }).event.meta.id;
  }

  /** Makes the sandbox send trigger-poller a realtime notification for `identity`, with `requestId`. */
  async function notify(identity: string, requestId: string): Promise<void> {
    const answer = await sandbox.request('POST', '/control/notifications', {
      token: control(),
      headers: { 'x-request-id': requestId },
      body: { data: [{ trigger_identity: identity }] },
    });
    expect(answer.status).toBe(200);
    expect((answer.body as { engine: { status: number } }).engine.status).toBe(202);
  }

  async function records(): Promise<SandboxRecord[]> {
    const answer = await sandbox.request('GET', '/control/actions/record_message/records?limit=1000', {
      token: control(),
    });
    expect(answer.status).toBe(200);
    return (answer.body as { data: SandboxRecord[] }).data;
  }

  const recordsSaying = async (message: string): Promise<SandboxRecord[]> =>
    (await records()).filter((record) => record.request.actionFields.message === message);

  async function activity(id: string): Promise<ActivityEntry[]> {
    const answer = await applets.request('GET', `/v1/applets/${id}/activity?limit=100`, { token });
    expect(answer.status).toBe(200);
    return (answer.body as { data: ActivityEntry[] }).data;
  }

  const activityOf = (id: string, eventId: string): Promise<ActivityEntry> =>
    eventually(`applet ${id}'s activity for ${eventId}`, async () =>
      (await activity(id)).find((entry) => entry.trigger_event_id === eventId),
    );

  async function subscription(
    identity: string,
  ): Promise<{ last_polled_at: string | null; baselined_at: string | null }> {
    const answer = await triggerPoller.request('GET', `/admin/subscriptions/${identity}`, {
      token: adminOf('trigger-poller'),
    });
    return answer.status === 200
      ? (answer.body as { last_polled_at: string | null; baselined_at: string | null })
      : { last_polled_at: null, baselined_at: null };
  }

  async function sandboxIdentities(): Promise<string[]> {
    const answer = await sandbox.request('GET', '/control/trigger-identities', { token: control() });
    expect(answer.status).toBe(200);
    return (answer.body as { data: { triggerIdentity: string }[] }).data.map(
      (known) => known.triggerIdentity,
    );
  }

  async function createApplet(body: unknown): Promise<{ id: string; identity: string }> {
    const created = await applets.request('POST', '/v1/applets', { token, body });
    expect(created.status).toBe(201);
    const applet = created.body as { id: string; trigger: { trigger_identity: string } };
    return { id: applet.id, identity: applet.trigger.trigger_identity };
  }

  it('registers the sandbox as trigger and action partner, a user, a token and an applet; the baseline poll fires nothing', async () => {
    const registered = await applets.request('POST', '/admin/services', {
      token: adminOf('applets'),
      body: {
        slug: 'sandbox',
        name: 'Partner sandbox',
        api_base_url: sandbox.url,
        service_key: engine.env['partner-sandbox'].SERVICE_KEY,
      },
    });
    expect(registered.status).toBe(201);
    // applet.changed and partner-service.changed are separate streams: an applet created before trigger-poller
    // applied the partner would have its baseline poll fail ("partner not known") and backed off for
    // POLL_BACKOFF_BASE_SECONDS. So wait until trigger-poller knows the partner (its admin API shows it).
    await eventually(
      'trigger-poller to know the sandbox',
      async () =>
        (await triggerPoller.request('GET', '/admin/partners/sandbox', { token: adminOf('trigger-poller') }))
          .status === 200,
    );
    const user = await applets.request('POST', '/admin/users', {
      token: adminOf('applets'),
      body: { name: 'ada', timezone: 'Europe/Berlin' },
    });
    expect(user.status).toBe(201);
    const userId = (user.body as { user: { id: string } }).user.id;
    const issued = await applets.request('POST', `/admin/users/${userId}/tokens`, {
      token: adminOf('applets'),
    });
    expect(issued.status).toBe(201);
    ({ token } = issued.body as { token: string });

    // The sandbox has an item before the applet exists: it must never fire.
    await sandboxEvent('inbox', 'Before the applet');
    ({ id: appletId, identity: triggerIdentity } = await createApplet({
      trigger: { service: 'sandbox', slug: 'new_item', fields: { list: 'inbox' } },
      action: {
        service: 'sandbox',
        slug: 'record_message',
        fields: { message: 'New in {{list}}: {{title}}' },
      },
    }));

    // trigger-poller learns the applet from applet.changed and polls the sandbox at once: the baseline.
    await eventually(
      'the baseline poll',
      async () => (await subscription(triggerIdentity)).baselined_at !== null,
    );
    expect(await sandboxIdentities()).toContain(triggerIdentity);
    expect(await records()).toEqual([]);
  });

  it('a sandbox event and a realtime notification make exactly one action call with the ingredients filled, shown in the activity', async () => {
    const eventId = await sandboxEvent('inbox', 'Buy milk');
    await notify(triggerIdentity, 'e2e-notify-1');
    const [record] = await eventually('the action call', async () => {
      const found = await records();
      return found.length > 0 ? found : undefined;
    });
    expect(record.request.actionFields).toEqual({ message: 'New in inbox: Buy milk' });
    expect(record.request.user?.timezone).toBe('Europe/Berlin');
    expect(record.requestId).toBe('e2e-notify-1');
    expect(await records()).toHaveLength(1);

    const entry = await activityOf(appletId, eventId);
    expect(entry).toMatchObject({
      status: 'success',
      partner_record_id: `record_message-${record.id}`,
      attempts: 1,
    });
  });

  it('an event polled twice fires once; a SKIP is shown as skipped', async () => {
    const before = (await subscription(triggerIdentity)).last_polled_at;
    await notify(triggerIdentity, 'e2e-notify-2');
    await eventually(
      'the second poll of the same event',
      async () => (await subscription(triggerIdentity)).last_polled_at !== before,
    );

    // An applet whose action the sandbox skips (adding to its read-only list), on another trigger identity.
    const skipping = await createApplet({
      trigger: { service: 'sandbox', slug: 'new_item', fields: { list: 'work' } },
      action: { service: 'sandbox', slug: 'add_item', fields: { list: 'archive', title: '{{title}}' } },
    });
    await eventually('the baseline of the second identity', async () =>
      Boolean((await subscription(skipping.identity)).baselined_at),
    );
    const eventId = await sandboxEvent('work', 'File taxes');
    await notify(skipping.identity, 'e2e-notify-3');
    const entry = await activityOf(skipping.id, eventId);
    expect(entry).toMatchObject({ status: 'skipped', attempts: 1, partner_record_id: null });
    expect(entry.message).toEqual(expect.any(String));
    expect(entry.message).not.toBe('');
    // The first event, polled twice, was acted on once (its poll and the SKIP run are both done by now).
    expect(await recordsSaying('New in inbox: Buy milk')).toHaveLength(1);
  });

  it('a partner 503 is retried, then succeeds', async () => {
    const faults = await sandbox.request('PUT', '/control/faults', {
      token: control(),
      body: { fail_next: 1, fail_status: 503, scope: 'actions' },
    });
    expect(faults.status).toBe(200);
    const eventId = await sandboxEvent('inbox', 'Retry me');
    await notify(triggerIdentity, 'e2e-notify-4');
    const entry = await activityOf(appletId, eventId);
    expect(entry).toMatchObject({ status: 'success', attempts: 2 });
    const [record, ...more] = await recordsSaying('New in inbox: Retry me');
    expect(more).toEqual([]);
    expect(record.requestId).toBe('e2e-notify-4');
    expect(entry.partner_record_id).toBe(`record_message-${record.id}`);
  });

  it('a disabled applet on the same trigger identity does not fire; the enabled one does', async () => {
    const disabled = await createApplet({
      trigger: { service: 'sandbox', slug: 'new_item', fields: { list: 'inbox' } },
      action: { service: 'sandbox', slug: 'record_message', fields: { message: 'Disabled saw {{title}}' } },
      enabled: false,
    });
    expect(disabled.identity).toBe(triggerIdentity);
    // actions applies applet.changed on its own time: wait until its copy knows the disabled applet.
    const db = new pg.Client({ connectionString: engine.env.actions.DATABASE_URL });
    await db.connect();
    try {
      await eventually('actions to know the disabled applet', async () => {
        const { rows } = await db.query<{ enabled: boolean }>(
          'SELECT enabled FROM applets WHERE applet_id = $1',
          [disabled.id],
        );
        return rows.length === 1 && rows[0].enabled === false;
      });
    } finally {
      await db.end();
    }

    const eventId = await sandboxEvent('inbox', 'Only once');
    await notify(triggerIdentity, 'e2e-notify-5');
    await activityOf(appletId, eventId);
    expect(await recordsSaying('New in inbox: Only once')).toHaveLength(1);
    expect(
      (await records()).filter((record) => record.request.actionFields.message.startsWith('Disabled')),
    ).toEqual([]);
    expect(await activity(disabled.id)).toEqual([]);
    const deleted = await applets.request('DELETE', `/v1/applets/${disabled.id}`, { token });
    expect(deleted.status).toBe(204);
  });

  it('an actions worker SIGKILLed while its partner call is in flight loses nothing: a new worker finishes the run', async () => {
    // Every action call now takes 3 s at the sandbox, so the kill lands inside one.
    const slow = await sandbox.request('PUT', '/control/faults', {
      token: control(),
      body: { latency_ms: 3000, scope: 'actions' },
    });
    expect(slow.status).toBe(200);
    const eventId = await sandboxEvent('inbox', 'Survive a crash');
    await notify(triggerIdentity, 'e2e-notify-6');
    await eventually('the run to be claimed (its partner call starts)', async () => {
      const runs = await actions.request('GET', `/admin/applets/${appletId}/runs?limit=100`, {
        token: adminOf('actions'),
      });
      const run = (
        runs.body as { data: { trigger_event_id: string; attempts: number; finished_at: string | null }[] }
      ).data.find((candidate) => candidate.trigger_event_id === eventId);
      return run !== undefined && run.attempts >= 1 && run.finished_at === null;
    });
    // The claim commits just before the call is sent; give the request a moment to reach the sandbox.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await engine.kill('actions-worker', 'SIGKILL')).toBe('SIGKILL');
    const fast = await sandbox.request('DELETE', '/control/faults', { token: control() });
    expect(fast.status).toBe(200);

    await engine.start('actions-worker');
    // The dead worker's job lease (30 s) and its claim of the run (PARTNER_TIMEOUT_MS + 30 s) expire first.
    const entry = await eventually(
      'the run to finish on the new worker',
      async () => (await activity(appletId)).find((candidate) => candidate.trigger_event_id === eventId),
      90_000,
      250,
    );
    expect(entry.status).toBe('success');
    const calls = await recordsSaying('New in inbox: Survive a crash');
    // At least once: the killed worker's call may still have been answered by the sandbox after the kill.
    console.info(
      `engine-e2e: SIGKILL mid-call: ${calls.length} call(s) reached the sandbox; run attempts ${entry.attempts}`,
    );
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(entry.attempts);
    expect(calls.map((call) => call.requestId)).toEqual(calls.map(() => 'e2e-notify-6'));
  }, 120_000);

  it('deleting the applet sends the sandbox its trigger identity DELETE', async () => {
    const known = await sandboxIdentities();
    expect(known).toContain(triggerIdentity);
    const deleted = await applets.request('DELETE', `/v1/applets/${appletId}`, { token });
    expect(deleted.status).toBe(204);
    await eventually(
      'the sandbox to forget the trigger identity',
      async () => !(await sandboxIdentities()).includes(triggerIdentity),
    );
    // Only the deleted applet's identity went; the skipping applet's is still polled.
    expect((await sandboxIdentities()).length).toBe(known.length - 1);
  });

  it('every sandbox event was acted on exactly once (the crash run at least once), the pre-applet one never', async () => {
    const texts = (await records()).map((record) => record.request.actionFields.message);
    const count = (text: string): number => texts.filter((candidate) => candidate === text).length;
    expect(count('New in inbox: Before the applet')).toBe(0);
    expect(count('New in inbox: Buy milk')).toBe(1);
    expect(count('New in inbox: Retry me')).toBe(1);
    expect(count('New in inbox: Only once')).toBe(1);
    expect(count('New in inbox: Survive a crash')).toBeGreaterThanOrEqual(1);
    expect(texts.filter((text) => !text.startsWith('New in inbox: '))).toEqual([]);
  });
});
