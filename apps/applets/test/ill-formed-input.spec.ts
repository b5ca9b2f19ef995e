import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Applet } from '../src/domain/applet';
import { startAppletsTestService, type AppletsTestService } from './support/applets-test-service';

// Issue 7, item 6: a NUL or a lone surrogate anywhere in a request, or a field name that is not a slug
// (`__proto__`), is a 400 naming the field, and nothing is written. The bodies are raw JSON text, so the
// escapes reach the server as they would from any client: `\u0000` is a NUL, `\ud800` a lone surrogate.

const REASON = 'must be well-formed Unicode without NUL characters';

let service: AppletsTestService;
let ada: { id: string; token: string };

/** Sends raw JSON; expects a 400 problem naming exactly `fields` and `table` unchanged. */
async function expectRefused(
  method: string,
  path: string,
  rawJson: string,
  table: 'users' | 'partner_services' | 'applets',
  fields: Record<string, string>,
  token = ada.token,
): Promise<void> {
  const before = await service.countRows(table);
  const response = await service.request(method, path, { token, rawJson });
  expect(response.status, response.text).toBe(400);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = response.body as { errors: { name: string; reason: string }[] };
  const named = Object.fromEntries(problem.errors.map((error) => [error.name, error.reason]));
  expect(named).toEqual(fields);
  expect(await service.countRows(table)).toBe(before);
}

const trigger = '"service":"weather","slug":"rain_tomorrow"';
const action = '"service":"slack","slug":"post_message"';

beforeAll(async () => {
  service = await startAppletsTestService();
  await service.registerService('weather');
  await service.registerService('slack');
  ada = await service.createUser('ada');
});

afterAll(async () => {
  await service?.stop();
});

describe('ill-formed strings in admin requests', () => {
  it('POST /admin/users with a NUL or a lone surrogate in the name: 400 naming it, no user', async () => {
    for (const name of ['a\\u0000b', 'x\\ud800y', '\\udc00'])
      await expectRefused(
        'POST',
        '/admin/users',
        `{"name":"${name}"}`,
        'users',
        { name: REASON },
        service.adminToken,
      );
  });

  it('POST /admin/services with NUL or lone surrogates in name, key and URL: 400 naming each, no service', async () => {
    await expectRefused(
      'POST',
      '/admin/services',
      '{"slug":"maps","name":"Maps\\u0000","api_base_url":"https://maps.example.com/a\\u0000b",' +
        '"service_key":"sk_maps_0123456789\\ud800abcdef"}',
      'partner_services',
      { name: REASON, api_base_url: REASON, service_key: REASON },
      service.adminToken,
    );
    await expectRefused(
      'POST',
      '/admin/services',
      '{"slug":"maps","name":"Maps","api_base_url":"https://maps.example.com/x\\ud800",' +
        '"service_key":"sk_maps_0123456789abcdef"}',
      'partner_services',
      { api_base_url: REASON },
      service.adminToken,
    );
  });
});

describe('ill-formed strings and field names in applets', () => {
  it('POST /v1/applets with NUL or lone surrogates in field values, Locations included: 400 naming each', async () => {
    await expectRefused(
      'POST',
      '/v1/applets',
      `{"trigger":{${trigger},"fields":{"city":"x\\ud800y","where":{"lat":1,"lng":2,"address":"a\\u0000"}}},` +
        `"action":{${action},"fields":{"text":"a\\u0000b","title":"\\udfff"}}}`,
      'applets',
      {
        'trigger.fields.city': REASON,
        'trigger.fields.where.address': REASON,
        'action.fields.text': REASON,
        'action.fields.title': REASON,
      },
    );
  });

  it('POST /v1/applets with a __proto__ or other non-slug field name: 400 naming it, no applet', async () => {
    const slugReason = 'field names are slugs: lowercase letters, digits and underscores';
    await expectRefused(
      'POST',
      '/v1/applets',
      `{"trigger":{${trigger},"fields":{"__proto__":"x"}},"action":{${action},"fields":{}}}`,
      'applets',
      { 'trigger.fields.__proto__': slugReason },
    );
    await expectRefused(
      'POST',
      '/v1/applets',
      `{"trigger":{${trigger},"fields":{"city":"Berlin"}},` +
        `"action":{${action},"fields":{"__proto__":{"lat":1,"lng":2},"k\\u0000":"x","ok":"y"}}}`,
      'applets',
      { 'action.fields.__proto__': slugReason, 'action.fields.k\u0000': slugReason },
    );
  });

  it('PATCH /v1/applets/:id with ill-formed values or a __proto__ field name: 400, the applet unchanged', async () => {
    const created = await service.request('POST', '/v1/applets', {
      token: ada.token,
      body: {
        trigger: { service: 'weather', slug: 'rain_tomorrow', fields: { city: 'Köln 🌧' } },
        action: { service: 'slack', slug: 'post_message', fields: { text: 'Rain in {{City}} 😀' } },
      },
    });
    expect(created.status, created.text).toBe(201);
    const applet = created.body as Applet;
    expect(applet.trigger.fields).toEqual({ city: 'Köln 🌧' });

    const path = `/v1/applets/${applet.id}`;
    await expectRefused('PATCH', path, '{"trigger":{"fields":{"city":"a\\u0000b"}}}', 'applets', {
      'trigger.fields.city': REASON,
    });
    await expectRefused(
      'PATCH',
      path,
      '{"enabled":false,"action":{"fields":{"text":"x\\ud800y","__proto__":"z"}}}',
      'applets',
      {
        'action.fields.text': REASON,
        'action.fields.__proto__': 'field names are slugs: lowercase letters, digits and underscores',
      },
    );
    const unchanged = await service.request('GET', path, { token: ada.token });
    expect(unchanged.body).toEqual(applet);
  });

  it('still takes surrogate pairs (emoji) and stores them exactly, never as U+FFFD', async () => {
    const fields = { city: 'x\ud83d\ude00y' };
    const created = await service.request('POST', '/v1/applets', {
      token: ada.token,
      body: {
        trigger: { service: 'weather', slug: 'rain_tomorrow', fields },
        action: { service: 'slack', slug: 'post_message', fields: {} },
      },
    });
    expect(created.status, created.text).toBe(201);
    const stored = await service.db
      .selectFrom('applets')
      .select('trigger_fields')
      .where('id', '=', (created.body as Applet).id)
      .executeTakeFirstOrThrow();
    expect(stored.trigger_fields).toEqual({ city: 'x😀y' });
  });
});
