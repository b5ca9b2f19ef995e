import { serviceApiValidators } from '@ittd/service-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, triggerBody, type Answer, type SandboxTestEnv } from './support/sandbox-test-env';

const { compile } = serviceApiValidators();

/** Expects `answer` to be `status` with a body valid against the Service API schema `schema`. */
function expectValid(answer: Answer, status: number, schema: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  const validate = compile(schema);
  expect(validate(answer.body), JSON.stringify(validate.errors)).toBe(true);
}

let sandbox: SandboxTestEnv;
let accessToken: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  const setup = await sandbox.api('POST', '/test/setup');
  accessToken = setup.body.data.accessToken;
});
afterAll(() => sandbox?.stop());

describe('status, test setup and user info', () => {
  it('answers status 200 with the service key and 401 without or with a wrong one', async () => {
    expect((await sandbox.api('GET', '/status')).status).toBe(200);
    expectValid(await sandbox.api('GET', '/status', { key: null }), 401, 'ErrorResponse');
    expectValid(await sandbox.api('GET', '/status', { key: 'wrong-key-0123456789' }), 401, 'ErrorResponse');
  });

  it('accepts the key as IFTTT-Channel-Key too, as older IFTTT calls send it', async () => {
    const answer = await sandbox.api('GET', '/status', {
      key: null,
      headers: { 'ifttt-channel-key': sandbox.serviceKey },
    });
    expect(answer.status).toBe(200);
  });

  it('returns samples for every trigger and action, and the skipping samples', async () => {
    const setup = await sandbox.api('POST', '/test/setup');
    expectValid(setup, 200, 'TestSetupResponse');
    expect(Object.keys(setup.body.data.samples.triggers).sort()).toEqual(['clock_tick', 'new_item']);
    expect(Object.keys(setup.body.data.samples.actions).sort()).toEqual(['add_item', 'record_message']);
    expect(setup.body.data.samples.actionRecordSkipping).toEqual({
      add_item: { list: 'archive', title: 'Never added' },
    });
    expect(Object.keys(setup.body.data.samples.triggerFieldValidations).sort()).toEqual([
      'clock_tick',
      'new_item',
    ]);
  });

  it('answers the user of a bearer token, and 401 for a forged, unknown or missing one', async () => {
    const info = await sandbox.api('GET', '/user/info', { key: null, token: accessToken });
    expectValid(info, 200, 'UserInfoResponse');
    expect(info.body.data).toEqual({ id: 'sandbox-user', name: 'Sandbox Test User' });
    const forged = `${accessToken.slice(0, -2)}xx`;
    expectValid(await sandbox.api('GET', '/user/info', { key: null, token: forged }), 401, 'ErrorResponse');
    expectValid(
      await sandbox.api('GET', '/user/info', { key: null, token: 'nobody.abc' }),
      401,
      'ErrorResponse',
    );
    expectValid(await sandbox.api('GET', '/user/info'), 401, 'ErrorResponse');
  });

  it('echoes X-Request-ID', async () => {
    const answer = await sandbox.api('GET', '/status', { headers: { 'x-request-id': 'req-sandbox-1' } });
    expect(answer.headers.get('x-request-id')).toBe('req-sandbox-1');
    const failed = await sandbox.api('GET', '/status', {
      key: null,
      headers: { 'x-request-id': 'req-sandbox-2' },
    });
    expect(failed.headers.get('x-request-id')).toBe('req-sandbox-2');
  });
});

describe('triggers', () => {
  it('answers new_item events newest first with meta.id, meta.timestamp and ingredients', async () => {
    for (const title of ['first', 'second']) {
      expect(
        (await sandbox.control('POST', '/triggers/new_item/events', { list: 'work', title })).status,
      ).toBe(201);
    }
    const answer = await sandbox.api('POST', '/triggers/new_item', { body: triggerBody({ list: 'work' }) });
    expectValid(answer, 200, 'TriggerCheckResponse');
    expect(answer.body.data.map((event: { title: string }) => event.title)).toEqual(['second', 'first']);
    const [newest, older] = answer.body.data;
    expect(newest.meta.id).toMatch(/^item-\d+$/);
    expect(newest.meta.id).not.toBe(older.meta.id);
    expect(Math.abs(newest.meta.timestamp - Date.now() / 1000)).toBeLessThan(600);
    expect(newest).toMatchObject({ list: 'work', description: '' });
  });

  it('answers at least 3 events for the samples of each trigger, with the user token too', async () => {
    const { body } = await sandbox.api('POST', '/test/setup');
    for (const [slug, fields] of Object.entries(body.data.samples.triggers)) {
      const answer = await sandbox.api('POST', `/triggers/${slug}`, {
        key: null,
        token: accessToken,
        body: triggerBody(fields as Record<string, unknown>),
      });
      expectValid(answer, 200, 'TriggerCheckResponse');
      expect(answer.body.data.length, slug).toBeGreaterThanOrEqual(3);
      const timestamps = answer.body.data.map(
        (event: { meta: { timestamp: number } }) => event.meta.timestamp,
      );
      expect(timestamps, slug).toEqual([...timestamps].sort((a, b) => b - a));
    }
  });

  it('honours limit: 0 answers [], 1 answers one, the default is 50', async () => {
    const zero = await sandbox.api('POST', '/triggers/clock_tick', {
      body: triggerBody({ interval_minutes: '1' }, { limit: 0 }),
    });
    expectValid(zero, 200, 'TriggerCheckResponse');
    expect(zero.body.data).toEqual([]);
    const one = await sandbox.api('POST', '/triggers/new_item', {
      body: triggerBody({ list: 'inbox' }, { limit: 1 }),
    });
    expect(one.body.data).toHaveLength(1);
    const byDefault = await sandbox.api('POST', '/triggers/clock_tick', {
      body: triggerBody({ interval_minutes: '5' }),
    });
    expect(byDefault.body.data).toHaveLength(50);
    expect(byDefault.body.data[0].meta.timestamp % 300).toBe(0);
    expect(byDefault.body.data[0].meta.timestamp - byDefault.body.data[1].meta.timestamp).toBe(300);
  });

  it('ignores unknown keys in the request and in triggerFields', async () => {
    const answer = await sandbox.api('POST', '/triggers/new_item', {
      body: triggerBody({ list: 'inbox', colour: 'blue' }, { unknown_key: { nested: true } }),
    });
    expectValid(answer, 200, 'TriggerCheckResponse');
    expect(answer.body.data.length).toBeGreaterThanOrEqual(3);
  });

  it('answers 400 naming the field for missing or invalid trigger fields and bodies', async () => {
    const missing = await sandbox.api('POST', '/triggers/new_item', { body: triggerBody({}) });
    expectValid(missing, 400, 'ErrorResponse');
    expect(missing.body.errors[0].message).toContain('triggerFields.list');
    const invalid = await sandbox.api('POST', '/triggers/clock_tick', {
      body: triggerBody({ interval_minutes: '7' }),
    });
    expectValid(invalid, 400, 'ErrorResponse');
    expect(invalid.body.errors[0].message).toContain('triggerFields.interval_minutes');
    const negative = await sandbox.api('POST', '/triggers/new_item', {
      body: triggerBody({ list: 'inbox' }, { limit: -1 }),
    });
    expectValid(negative, 400, 'ErrorResponse');
    expect(negative.body.errors[0].message).toContain('limit');
    const noIdentity = await sandbox.api('POST', '/triggers/new_item', {
      body: { triggerFields: { list: 'inbox' }, user: { timezone: 'UTC' } },
    });
    expect(noIdentity.body.errors[0].message).toContain('trigger_identity');
    const notJson = await sandbox.api('POST', '/triggers/new_item', { body: '{"trigger_identity":' });
    expectValid(notJson, 400, 'ErrorResponse');
    const nul = await sandbox.api('POST', '/triggers/new_item', {
      body: triggerBody({ list: 'in\u0000box' }),
    });
    expectValid(nul, 400, 'ErrorResponse');
  });

  it('answers 404 for an unknown trigger and 401 for a wrong key', async () => {
    expectValid(await sandbox.api('POST', '/triggers/nope', { body: triggerBody({}) }), 404, 'ErrorResponse');
    expectValid(
      await sandbox.api('POST', '/triggers/new_item', {
        key: 'wrong-key-0123456789',
        body: triggerBody({ list: 'inbox' }),
      }),
      401,
      'ErrorResponse',
    );
    expectValid(
      await sandbox.api('POST', '/triggers/new_item', { key: null, body: triggerBody({ list: 'inbox' }) }),
      401,
      'ErrorResponse',
    );
    // A valid key does not cover a bad token beside it.
    expectValid(
      await sandbox.api('POST', '/triggers/new_item', {
        token: 'sandbox-user.forged',
        body: triggerBody({ list: 'inbox' }),
      }),
      401,
      'ErrorResponse',
    );
  });

  it('keeps the fields of a trigger identity as last polled', async () => {
    const body = triggerBody({ list: 'home' });
    await sandbox.api('POST', '/triggers/new_item', { body });
    await sandbox.api('POST', '/triggers/new_item', { body: { ...body, triggerFields: { list: 'work' } } });
    const known = await sandbox.control('GET', '/trigger-identities');
    const row = known.body.data.find(
      (entry: { triggerIdentity: string }) => entry.triggerIdentity === body.trigger_identity,
    );
    expect(row).toMatchObject({ triggerSlug: 'new_item', triggerFields: { list: 'work' }, userId: null });
  });

  it('forgets a polled trigger identity on DELETE, then answers 404 for it', async () => {
    const body = triggerBody({ list: 'home' });
    await sandbox.api('POST', '/triggers/new_item', { body });
    const known = await sandbox.control('GET', '/trigger-identities');
    expect(known.body.data.map((row: { triggerIdentity: string }) => row.triggerIdentity)).toContain(
      body.trigger_identity,
    );
    const path = `/triggers/new_item/trigger_identity/${body.trigger_identity}`;
    expect((await sandbox.api('DELETE', path, { key: null })).status).toBe(401);
    const deleted = await sandbox.api('DELETE', path);
    expect(deleted).toMatchObject({ status: 200, body: {} });
    expectValid(await sandbox.api('DELETE', path), 404, 'ErrorResponse');
    const nul = await sandbox.api('DELETE', '/triggers/new_item/trigger_identity/a%00b');
    expectValid(nul, 400, 'ErrorResponse');
    expect(nul.body.errors[0].message).toContain('triggerIdentity');
    const after = await sandbox.control('GET', '/trigger-identities');
    expect(after.body.data.map((row: { triggerIdentity: string }) => row.triggerIdentity)).not.toContain(
      body.trigger_identity,
    );
  });
});

describe('field options and validation', () => {
  it('answers the options of trigger and action fields, and 404 for a field without', async () => {
    const lists = await sandbox.api('POST', '/triggers/new_item/fields/list/options');
    expectValid(lists, 200, 'StepFieldOptionsResponse');
    expect(lists.body.data.map((option: { value: string }) => option.value)).toEqual([
      'inbox',
      'work',
      'home',
      'archive',
    ]);
    expectValid(
      await sandbox.api('POST', '/triggers/clock_tick/fields/interval_minutes/options'),
      200,
      'StepFieldOptionsResponse',
    );
    expectValid(
      await sandbox.api('POST', '/actions/add_item/fields/list/options', { key: null, token: accessToken }),
      200,
      'StepFieldOptionsResponse',
    );
    expectValid(
      await sandbox.api('POST', '/actions/record_message/fields/message/options'),
      404,
      'ErrorResponse',
    );
    expectValid(
      await sandbox.api('POST', '/triggers/new_item/fields/list/options', { key: null }),
      401,
      'ErrorResponse',
    );
  });

  it('validates one field and all fields of a trigger, with the samples of the test setup', async () => {
    const { body } = await sandbox.api('POST', '/test/setup');
    for (const [slug, fields] of Object.entries(body.data.samples.triggerFieldValidations)) {
      for (const [field, sample] of Object.entries(
        fields as Record<string, { valid: string; invalid: string }>,
      )) {
        const valid = await sandbox.api('POST', `/triggers/${slug}/fields/${field}/validate`, {
          body: { value: sample.valid },
        });
        expectValid(valid, 200, 'ValidateFieldResponse');
        expect(valid.body.data).toEqual({ valid: true });
        const invalid = await sandbox.api('POST', `/triggers/${slug}/fields/${field}/validate`, {
          body: { value: sample.invalid },
        });
        expectValid(invalid, 200, 'ValidateFieldResponse');
        expect(invalid.body.data.valid).toBe(false);
        expect(invalid.body.data.message).toContain(field);
      }
    }
    const all = await sandbox.api('POST', '/triggers/new_item/fields/validate', {
      body: { values: { list: 'work', colour: 'x' } },
    });
    expectValid(all, 200, 'ValidateFieldsResponse');
    expect(all.body.data).toEqual({
      list: { valid: true },
      colour: { valid: false, message: 'new_item has no field colour' },
    });
    expectValid(
      await sandbox.api('POST', '/triggers/new_item/fields/list/validate', { body: {} }),
      400,
      'ErrorResponse',
    );
  });
});

describe('actions', () => {
  const actionBody = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    actionFields: fields,
    user: { timezone: 'UTC' },
    ifttt_source: { id: 'applet-1', url: 'https://ittd.example/applets/applet-1' },
    ...extra,
  });

  it('record_message keeps what it received, readable through the control API', async () => {
    const answer = await sandbox.api('POST', '/actions/record_message', {
      token: accessToken,
      headers: { 'x-request-id': 'req-record-1' },
      body: actionBody({ message: 'It rains in Berlin' }, { extra_key: 1 }),
    });
    expectValid(answer, 200, 'ActionRunResponse');
    const records = await sandbox.control('GET', '/actions/record_message/records');
    expect(records.body.data[0]).toMatchObject({
      id: answer.body.data[0].id.replace('record_message-', ''),
      actionSlug: 'record_message',
      requestId: 'req-record-1',
      userId: 'sandbox-user',
      request: actionBody({ message: 'It rains in Berlin' }, { extra_key: 1 }),
    });
  });

  it('add_item adds a new_item event, and is skipped for the read-only list', async () => {
    const added = await sandbox.api('POST', '/actions/add_item', {
      body: actionBody({ list: 'home', title: 'From an action' }),
    });
    expectValid(added, 200, 'ActionRunResponse');
    const events = await sandbox.api('POST', '/triggers/new_item', {
      body: triggerBody({ list: 'home' }, { limit: 1 }),
    });
    expect(events.body.data[0].title).toBe('From an action');

    const { body } = await sandbox.api('POST', '/test/setup');
    for (const [slug, fields] of Object.entries(body.data.samples.actionRecordSkipping)) {
      const skipped = await sandbox.api('POST', `/actions/${slug}`, {
        body: actionBody(fields as Record<string, unknown>),
      });
      expectValid(skipped, 400, 'ErrorResponse');
      expect(skipped.body.errors[0]).toMatchObject({
        status: 'SKIP',
        message: expect.stringContaining('read-only'),
      });
    }
    const archive = await sandbox.control('GET', '/triggers/new_item/events?list=archive');
    expect(archive.body.data).toEqual([]);
  });

  it('answers 400 naming the field for invalid action fields (never SKIP), 404 for an unknown action, 401 for a wrong key', async () => {
    const invalid = await sandbox.api('POST', '/actions/add_item', {
      body: actionBody({ list: 'inbox', title: ' ' }),
    });
    expectValid(invalid, 400, 'ErrorResponse');
    expect(invalid.body.errors[0].status).toBeUndefined();
    expect(invalid.body.errors[0].message).toContain('actionFields.title');
    const noFields = await sandbox.api('POST', '/actions/record_message', {
      body: { user: { timezone: 'UTC' } },
    });
    expect(noFields.body.errors[0].message).toContain('actionFields');
    const nul = await sandbox.api('POST', '/actions/record_message', {
      body: actionBody({ message: 'a' }, { note: 'x\u0000' }),
    });
    expectValid(nul, 400, 'ErrorResponse');
    expectValid(await sandbox.api('POST', '/actions/nope', { body: actionBody({}) }), 404, 'ErrorResponse');
    expectValid(
      await sandbox.api('POST', '/actions/record_message', {
        key: 'wrong-key-0123456789',
        body: actionBody({ message: 'x' }),
      }),
      401,
      'ErrorResponse',
    );
    expectValid(await sandbox.api('GET', '/no/such/route'), 404, 'ErrorResponse');
  });
});

describe('bad input', () => {
  const paths = [
    '/test/setup',
    '/triggers/new_item',
    '/triggers/clock_tick',
    '/triggers/new_item/fields/list/options',
    '/triggers/new_item/fields/list/validate',
    '/triggers/new_item/fields/validate',
    '/actions/record_message',
    '/actions/add_item',
  ];
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  const bodies = [
    '[]',
    '"text"',
    'null',
    '{"trigger_identity":5,"triggerFields":[],"user":"x","limit":1.5}',
    '{"value":{"a":1},"values":[1],"actionFields":{"message":{"lat":"x"}},"user":{"timezone":7}}',
    `{"actionFields":{"message":"x"},"user":{"timezone":"UTC"},"deep":${deep}}`,
    `{"trigger_identity":"${'x'.repeat(300)}","triggerFields":{"list":"inbox"},"user":{"timezone":"UTC"}}`,
  ];

  it('never answers 5xx, and every 4xx is an ErrorResponse', async () => {
    for (const path of paths) {
      for (const body of bodies) {
        const answer = await sandbox.api('POST', path, { body });
        expect(answer.status, `${path} ${body.slice(0, 60)}`).toBeLessThan(500);
        if (answer.status >= 400) expectValid(answer, answer.status, 'ErrorResponse');
      }
    }
  });
});
