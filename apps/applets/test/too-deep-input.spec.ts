import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Applet } from '../src/domain/applet';
import { startAppletsTestService, type AppletsTestService } from './support/applets-test-service';

// The neighbour of issue 7, item 6: a JSON value from outside nested 100,000 levels deep. Express's body
// parser reads it (V8's JSON.parse does not recurse), but JSON.stringify overflows its stack on it and
// Postgres refuses such jsonb (54001). No applets request field takes free-form JSON (a field value is a
// string or a flat Location), so the shapes refuse it: a 400 naming the field, nothing written. The bodies
// are raw JSON text; BODY_LIMIT is raised so they reach the parser (under the default 100kb they are a 413).

const DEEP = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

let service: AppletsTestService;
let ada: { id: string; token: string };

/** Sends raw JSON; expects a 400 problem naming exactly `names` (each once or more) and `table` unchanged. */
async function expectRefused(
  method: string,
  path: string,
  rawJson: string,
  table: 'users' | 'partner_services' | 'applets',
  names: string[],
  token = ada.token,
): Promise<void> {
  const before = await service.countRows(table);
  const response = await service.request(method, path, { token, rawJson });
  expect(response.status, response.text).toBe(400);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = response.body as { errors: { name: string; reason: string }[] };
  expect([...new Set(problem.errors.map((error) => error.name))]).toEqual(names);
  expect(await service.countRows(table)).toBe(before);
}

const trigger = '"service":"weather","slug":"rain_tomorrow"';
const action = '"service":"slack","slug":"post_message"';

beforeAll(async () => {
  service = await startAppletsTestService({ BODY_LIMIT: '1mb' });
  await service.registerService('weather');
  await service.registerService('slack');
  ada = await service.createUser('ada');
});

afterAll(async () => {
  await service?.stop();
});

describe('admin requests nested 100,000 levels deep', () => {
  it('POST /admin/users and /admin/services: 400 naming the field (or the body), nothing written', async () => {
    await expectRefused('POST', '/admin/users', DEEP, 'users', ['(body)'], service.adminToken);
    await expectRefused('POST', '/admin/users', `{"name":${DEEP}}`, 'users', ['name'], service.adminToken);
    await expectRefused(
      'POST',
      '/admin/services',
      `{"slug":"maps","name":"Maps","api_base_url":"https://maps.example.com",` + `"service_key":${DEEP}}`,
      'partner_services',
      ['service_key'],
      service.adminToken,
    );
  });
});

describe('applet fields nested 100,000 levels deep', () => {
  it('POST /v1/applets: 400 naming each field, no applet', async () => {
    await expectRefused(
      'POST',
      '/v1/applets',
      `{"trigger":{${trigger},"fields":{"city":${DEEP}}},"action":{${action},"fields":{"text":"ok"}}}`,
      'applets',
      ['trigger.fields.city'],
    );
    await expectRefused(
      'POST',
      '/v1/applets',
      `{"trigger":{${trigger},"fields":${DEEP}},"action":{${action},"fields":{"where":{"lat":1,"lng":2,"zoom":${DEEP}}}}}`,
      'applets',
      ['trigger.fields', 'action.fields.where'],
    );
  });

  it('PATCH /v1/applets/:id: 400 naming the field, the applet unchanged', async () => {
    const created = await service.request('POST', '/v1/applets', {
      token: ada.token,
      body: {
        trigger: { service: 'weather', slug: 'rain_tomorrow', fields: { city: 'Köln' } },
        action: { service: 'slack', slug: 'post_message', fields: { text: 'Rain in {{City}}' } },
      },
    });
    expect(created.status, created.text).toBe(201);
    const applet = created.body as Applet;
    const path = `/v1/applets/${applet.id}`;
    await expectRefused('PATCH', path, `{"trigger":{"fields":{"city":${DEEP}}}}`, 'applets', [
      'trigger.fields.city',
    ]);
    await expectRefused('PATCH', path, `{"enabled":false,"action":${DEEP}}`, 'applets', ['action']);
    const unchanged = await service.request('GET', path, { token: ada.token });
    expect(unchanged.body).toEqual(applet);
  });

  it('keeps serving after them: no 500, no crash', async () => {
    const listed = await service.request('GET', '/v1/applets', { token: ada.token });
    expect(listed.status).toBe(200);
  });
});
