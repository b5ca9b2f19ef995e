import { computeTriggerIdentity } from '@ittd/applets/src/domain/trigger-identity';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startEngine, type Engine } from './support/engine';

/**
 * The applet engine end to end, in one process: a user's applet "new item at weather -> record a message at
 * notes" created through the applets API makes trigger-poller poll weather (a baseline: nothing fires), a
 * realtime notification makes it poll again, actions calls notes exactly once with the ingredients filled and
 * the notification's request id, and the user sees the run in the applet's activity. Both partners are fakes
 * that check every request and answer against the IFTTT Service API's OpenAPI file.
 *
 * The steps build on each other (one engine, one applet), so they are one ordered sequence of `it`s.
 */
describe('an applet fires across applets, trigger-poller and actions', () => {
  let engine: Engine;
  let weather: FakePartner;
  let notes: FakePartner;
  let token: string;
  let userId: string;
  let appletId: string;
  let triggerIdentity: string;
  const fields = { city: 'Berlin' };

  beforeAll(async () => {
    weather = await startFakePartner('sk_weather_0123456789abcdef');
    notes = await startFakePartner('sk_notes_0123456789abcdef');
    engine = await startEngine({
      triggerPoller: { POLL_RETRY_BASE_MS: '50', IDENTITY_DELETE_RETRY_BASE_MS: '50' },
      actions: { ACTION_RETRY_BASE_MS: '50' },
    });
  });

  afterAll(async () => {
    await engine?.stop();
    await weather?.close();
    await notes?.close();
  });

  /** Messages notes recorded (successful or not), by their text. */
  const recordedTexts = (): string[] =>
    notes.actions.calls.map((call) => (call.body as { actionFields: { text: string } }).actionFields.text);

  async function activity(
    id = appletId,
  ): Promise<{ trigger_event_id: string; status: string; [k: string]: unknown }[]> {
    const answer = await engine.applets.request('GET', `/v1/applets/${id}/activity?limit=100`, { token });
    expect(answer.status).toBe(200);
    return (answer.body as { data: { trigger_event_id: string; status: string }[] }).data;
  }

  async function notify(requestId: string): Promise<void> {
    const answer = await engine.triggerPoller.request('POST', '/v1/notifications', {
      headers: { 'ifttt-service-key': weather.serviceKey, 'x-request-id': requestId },
      body: { data: [{ trigger_identity: triggerIdentity }] },
    });
    expect(answer.status).toBe(202);
  }

  async function subscription(): Promise<{ last_polled_at: string | null; baselined_at: string | null }> {
    const answer = await engine.triggerPoller.request('GET', `/admin/subscriptions/${triggerIdentity}`, {
      token: engine.triggerPoller.adminToken,
    });
    return answer.status === 200
      ? (answer.body as { last_polled_at: string | null; baselined_at: string | null })
      : { last_polled_at: null, baselined_at: null };
  }

  /** Adds a partner event whose `CreatedAt` ingredient names it, so every recorded message says which event it is. */
  function newWeatherEvent(id: string, secondsAgo = 0): void {
    weather.addEvents(triggerIdentity, [
      {
        id,
        timestamp: Math.floor(Date.now() / 1000) - secondsAgo,
        ingredients: { City: 'Berlin', CreatedAt: `at-${id}` },
      },
    ]);
  }

  it('registers the partners, a user and an applet through the applets API; the poller takes a baseline and nothing fires', async () => {
    for (const [slug, partner] of [
      ['weather', weather],
      ['notes', notes],
    ] as const) {
      const registered = await engine.applets.request('POST', '/admin/services', {
        token: engine.applets.adminToken,
        body: { slug, name: slug, api_base_url: partner.url, service_key: partner.serviceKey },
      });
      expect(registered.status).toBe(201);
    }
    const user = await engine.applets.request('POST', '/admin/users', {
      token: engine.applets.adminToken,
      body: { name: 'ada', timezone: 'Europe/Berlin' },
    });
    expect(user.status).toBe(201);
    ({ token } = user.body as { token: string });
    userId = (user.body as { user: { id: string } }).user.id;

    // The partner already has an event for this identity before the applet exists: it must never fire.
    triggerIdentity = computeTriggerIdentity({
      userId,
      serviceSlug: 'weather',
      triggerSlug: 'new_item',
      fields,
    });
    newWeatherEvent('e0', 3600);

    const created = await engine.applets.request('POST', '/v1/applets', {
      token,
      body: {
        trigger: { service: 'weather', slug: 'new_item', fields },
        action: {
          service: 'notes',
          slug: 'record_message',
          fields: { text: 'Rain in {{City}} {{CreatedAt}}' },
        },
      },
    });
    expect(created.status).toBe(201);
    const applet = created.body as { id: string; trigger: { trigger_identity: string } };
    appletId = applet.id;
    expect(applet.trigger.trigger_identity).toBe(triggerIdentity);

    // trigger-poller learns the applet from applet.changed and polls at once: the baseline.
    await eventually('the baseline poll', async () => (await subscription()).baselined_at !== null);
    const poll = weather.calls.at(-1);
    expect(poll?.triggerSlug).toBe('new_item');
    expect(poll?.body).toMatchObject({
      trigger_identity: triggerIdentity,
      triggerFields: fields,
      user: { timezone: 'Europe/Berlin' },
    });
    expect(notes.actions.calls).toEqual([]);
  });

  it('a new partner event and a realtime notification make exactly one action call, ingredients filled, with the request id', async () => {
    newWeatherEvent('e1');
    await notify('e2e-notification-1');
    const call = await eventually('the action call', () => notes.actions.calls[0]);
    expect(call.actionSlug).toBe('record_message');
    expect(call.headers['ifttt-service-key']).toBe(notes.serviceKey);
    expect(call.headers['x-request-id']).toBe('e2e-notification-1');
    expect(call.body).toMatchObject({
      actionFields: { text: 'Rain in Berlin at-e1' },
      user: { timezone: 'Europe/Berlin' },
    });
    // e0 (the baseline) never fired: it sorted before e1, and events reach actions in order.
    expect(recordedTexts()).toEqual(['Rain in Berlin at-e1']);

    const [entry] = await eventually('the activity entry', async () => {
      const entries = await activity();
      return entries.length > 0 ? entries : undefined;
    });
    expect(entry).toMatchObject({
      trigger_event_id: 'e1',
      status: 'success',
      partner_record_id: notes.actions.recordIds[0],
      attempts: 1,
    });
  });

  it('the same event polled again does not fire again; a SKIP is recorded as skipped at once', async () => {
    const before = (await subscription()).last_polled_at;
    await notify('e2e-notification-2');
    await eventually('the second poll of e1', async () => (await subscription()).last_polled_at !== before);

    notes.actions.skipNext(1, 'notebook is archived');
    newWeatherEvent('e2');
    await notify('e2e-notification-3');
    const skipped = await eventually('the skipped run', async () =>
      (await activity()).find((entry) => entry.trigger_event_id === 'e2'),
    );
    expect(skipped).toMatchObject({ status: 'skipped', message: 'notebook is archived', attempts: 1 });
    // e1 was polled twice and recorded once.
    expect(recordedTexts().filter((text) => text.endsWith('at-e1'))).toHaveLength(1);
  });

  it('a 503 is retried and then succeeds', async () => {
    notes.actions.failNext(1, 503);
    newWeatherEvent('e3');
    await notify('e2e-notification-4');
    const run = await eventually('the retried run', async () =>
      (await activity()).find((entry) => entry.trigger_event_id === 'e3' && entry.status !== 'failed'),
    );
    expect(run).toMatchObject({ status: 'success', attempts: 2 });
    expect(recordedTexts().filter((text) => text.endsWith('at-e3'))).toHaveLength(2);
    const e3Calls = notes.actions.calls.filter((call) =>
      (call.body as { actionFields: { text: string } }).actionFields.text.endsWith('at-e3'),
    );
    expect(e3Calls.map((call) => call.headers['x-request-id'])).toEqual([
      'e2e-notification-4',
      'e2e-notification-4',
    ]);
  });

  it('a disabled applet on the same trigger identity does not fire; the enabled one does', async () => {
    const second = await engine.applets.request('POST', '/v1/applets', {
      token,
      body: {
        trigger: { service: 'weather', slug: 'new_item', fields },
        action: { service: 'notes', slug: 'record_message', fields: { text: 'second {{CreatedAt}}' } },
        enabled: false,
      },
    });
    expect(second.status).toBe(201);
    const secondId = (second.body as { id: string; trigger: { trigger_identity: string } }).id;
    expect((second.body as { trigger: { trigger_identity: string } }).trigger.trigger_identity).toBe(
      triggerIdentity,
    );
    // actions applies applet.changed on its own time: wait until its copy knows the second applet (disabled).
    await eventually('actions to know the disabled applet', async () => {
      const row = await engine.actions.db
        .selectFrom('applets')
        .select(['enabled'])
        .where('applet_id', '=', secondId)
        .executeTakeFirst();
      return row !== undefined && row.enabled === false;
    });

    newWeatherEvent('e4');
    await notify('e2e-notification-5');
    await eventually('the enabled applet to run e4', async () =>
      (await activity()).find((entry) => entry.trigger_event_id === 'e4'),
    );
    expect(recordedTexts().filter((text) => text.startsWith('second'))).toEqual([]);
    expect(await activity(secondId)).toEqual([]);

    const deleted = await engine.applets.request('DELETE', `/v1/applets/${secondId}`, { token });
    expect(deleted.status).toBe(204);
  });

  it('deleting the last applet on the trigger identity sends the partner its DELETE', async () => {
    expect(weather.triggerIdentityDeletes.calls).toEqual([]);
    weather.triggerIdentityDeletes.failNext(1, 503);
    const deleted = await engine.applets.request('DELETE', `/v1/applets/${appletId}`, { token });
    expect(deleted.status).toBe(204);
    const done = await eventually('the DELETE to succeed', () =>
      weather.triggerIdentityDeletes.calls.find((call) => call.status === 200),
    );
    expect(done.triggerSlug).toBe('new_item');
    expect(done.triggerIdentity).toBe(triggerIdentity);
    expect(done.headers['ifttt-service-key']).toBe(weather.serviceKey);
    expect(weather.triggerIdentityDeletes.calls.map((call) => call.status)).toEqual([503, 200]);
  });

  it('every request the engine made to a partner followed the Service API', () => {
    expect(weather.requestProblems).toEqual([]);
    expect(notes.requestProblems).toEqual([]);
  });
});
