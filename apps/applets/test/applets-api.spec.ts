import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Applet } from '../src/domain/applet';
import type { AppletPage } from '../src/domain/applets';
import { startAppletsTestService, type AppletsTestService } from './support/applets-test-service';

let service: AppletsTestService;
let ada: { id: string; token: string };
let bob: { id: string; token: string };

const validApplet = {
  trigger: { service: 'weather', slug: 'rain_tomorrow', fields: { city: 'Berlin', units: 'metric' } },
  action: { service: 'slack', slug: 'post_message', fields: { text: 'Rain in {{City}} at {{CreatedAt}}' } },
};

async function appletCount(): Promise<number> {
  const row = await service.db
    .selectFrom('applets')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

beforeAll(async () => {
  service = await startAppletsTestService();
  await service.registerService('weather');
  await service.registerService('slack');
  ada = await service.createUser('ada');
  bob = await service.createUser('bob');
});

afterAll(async () => {
  await service?.stop();
});

describe('authentication', () => {
  it('answers 401 with a Bearer challenge when the token is missing', async () => {
    const response = await service.request('GET', '/v1/applets');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers 401 for a wrong token and for another scheme', async () => {
    const wrong = await service.request('GET', '/v1/applets', { token: `${ada.token}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const basic = await service.request('GET', '/v1/applets', { headers: { authorization: 'Basic YTpi' } });
    expect(basic.status).toBe(401);
  });

  it('does not accept the admin token as a user token, nor a user token on admin routes', async () => {
    expect((await service.request('GET', '/v1/applets', { token: service.adminToken })).status).toBe(401);
    const asUser = await service.request('POST', '/admin/users', { token: ada.token, body: { name: 'eve' } });
    expect(asUser.status).toBe(401);
  });

  it("answers 404 for another user's applet, on get, update and delete", async () => {
    const created = await service.request('POST', '/v1/applets', { token: ada.token, body: validApplet });
    expect(created.status).toBe(201);
    const id = (created.body as Applet).id;
    expect((await service.request('GET', `/v1/applets/${id}`, { token: bob.token })).status).toBe(404);
    const patch = await service.request('PATCH', `/v1/applets/${id}`, {
      token: bob.token,
      body: { enabled: false },
    });
    expect(patch.status).toBe(404);
    expect((await service.request('DELETE', `/v1/applets/${id}`, { token: bob.token })).status).toBe(404);
    const still = await service.request('GET', `/v1/applets/${id}`, { token: ada.token });
    expect(still.status).toBe(200);
    expect((still.body as Applet).enabled).toBe(true);
  });
});

describe('applets CRUD', () => {
  it('creates, gets, updates and deletes an applet', async () => {
    const created = await service.request('POST', '/v1/applets', { token: ada.token, body: validApplet });
    expect(created.status).toBe(201);
    const applet = created.body as Applet;
    expect(created.headers.get('location')).toBe(`/v1/applets/${applet.id}`);
    expect(applet).toMatchObject({
      enabled: true,
      trigger: { service: 'weather', slug: 'rain_tomorrow', fields: validApplet.trigger.fields },
      action: { service: 'slack', slug: 'post_message', fields: validApplet.action.fields },
    });
    expect(applet.trigger.trigger_identity).toMatch(/^[0-9a-f]{64}$/);

    const got = await service.request('GET', `/v1/applets/${applet.id}`, { token: ada.token });
    expect(got.body).toEqual(applet);

    const disabled = await service.request('PATCH', `/v1/applets/${applet.id}`, {
      token: ada.token,
      body: { enabled: false, action: { fields: { text: 'Umbrella! {{City}}' } } },
    });
    expect(disabled.status).toBe(200);
    const updated = disabled.body as Applet;
    expect(updated.enabled).toBe(false);
    expect(updated.action.fields).toEqual({ text: 'Umbrella! {{City}}' });
    expect(updated.trigger).toEqual(applet.trigger);
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(applet.updated_at));

    const retriggered = await service.request('PATCH', `/v1/applets/${applet.id}`, {
      token: ada.token,
      body: { trigger: { fields: { city: 'Paris', units: 'metric' } } },
    });
    expect(retriggered.status).toBe(200);
    expect((retriggered.body as Applet).trigger.trigger_identity).not.toBe(applet.trigger.trigger_identity);

    expect((await service.request('DELETE', `/v1/applets/${applet.id}`, { token: ada.token })).status).toBe(
      204,
    );
    expect((await service.request('GET', `/v1/applets/${applet.id}`, { token: ada.token })).status).toBe(404);
    expect((await service.request('DELETE', `/v1/applets/${applet.id}`, { token: ada.token })).status).toBe(
      404,
    );
  });

  it('answers 404 for ids that cannot exist', async () => {
    for (const id of ['abc', '0', '-1', '99999999999999999999999']) {
      expect((await service.request('GET', `/v1/applets/${id}`, { token: ada.token })).status).toBe(404);
    }
  });

  it('lists across several pages with an opaque cursor, newest first, only the caller’s applets', async () => {
    const carol = await service.createUser('carol');
    const ids: string[] = [];
    for (let index = 0; index < 7; index += 1) {
      const body = { ...validApplet, trigger: { ...validApplet.trigger, fields: { city: `City ${index}` } } };
      const created = await service.request('POST', '/v1/applets', { token: carol.token, body });
      ids.push((created.body as Applet).id);
    }
    await service.request('POST', '/v1/applets', { token: bob.token, body: validApplet });

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const query: string = cursor === null ? '?limit=3' : `?limit=3&cursor=${encodeURIComponent(cursor)}`;
      const response = await service.request('GET', `/v1/applets${query}`, { token: carol.token });
      expect(response.status).toBe(200);
      const body = response.body as AppletPage;
      pageSizes.push(body.data.length);
      seen.push(...body.data.map((applet) => applet.id));
      cursor = body.next_cursor;
      if (cursor === null) break;
      expect(cursor).not.toMatch(/^\d+$/);
    }
    expect(pageSizes).toEqual([3, 3, 1]);
    expect(seen).toEqual([...ids].reverse());
  });

  it('rejects a limit above the maximum and a forged cursor with 400', async () => {
    const tooMany = await service.request('GET', '/v1/applets?limit=1000', { token: ada.token });
    expect(tooMany.status).toBe(400);
    expect((tooMany.body as { errors: { name: string }[] }).errors.map((e) => e.name)).toEqual(['limit']);
    // Only plain decimal digits are a number (issue 7): Number() would read these as 16, 100, 0 and 5.
    for (const loose of ['0x10', '1e2', '%20', '+5', '5.0', '5&limit=6']) {
      const response = await service.request('GET', `/v1/applets?limit=${loose}`, { token: ada.token });
      expect(response.status, loose).toBe(400);
      expect((response.body as { errors: { name: string }[] }).errors.map((e) => e.name)).toEqual(['limit']);
    }
    const forged = await service.request('GET', '/v1/applets?cursor=bm9wZQ', { token: ada.token });
    expect(forged.status).toBe(400);
    expect((forged.body as { errors: { name: string }[] }).errors.map((e) => e.name)).toEqual(['cursor']);
  });
});

describe('validation', () => {
  async function expectRejected(body: unknown, status: number, fields: string[]): Promise<void> {
    const before = await appletCount();
    const response = await service.request('POST', '/v1/applets', { token: ada.token, body });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = response.body as { status: number; errors: { name: string; reason: string }[] };
    expect(problem.status).toBe(status);
    expect(problem.errors.map((error) => error.name).sort()).toEqual([...fields].sort());
    expect(await appletCount()).toBe(before);
  }

  it('answers 400 naming every invalid field, and writes nothing', async () => {
    await expectRejected(
      {
        trigger: { service: 'Weather!', slug: 'rain_tomorrow', fields: { city: 42 } },
        action: { service: 'slack', fields: {} },
        enabled: 'yes',
      },
      400,
      ['trigger.service', 'trigger.fields.city', 'action.slug', 'enabled'],
    );
  });

  it('names a field whose name is not a slug', async () => {
    await expectRejected(
      { ...validApplet, trigger: { ...validApplet.trigger, fields: { 'Bad Key': 'x' } } },
      400,
      ['trigger.fields.Bad Key'],
    );
  });

  it('rejects malformed placeholders in action fields', async () => {
    await expectRejected(
      {
        ...validApplet,
        action: { ...validApplet.action, fields: { text: 'Hi {{ City }}', title: 'ok {{Title' } },
      },
      400,
      ['action.fields.text', 'action.fields.title'],
    );
  });

  it('rejects unknown keys and a body that is not JSON', async () => {
    await expectRejected({ ...validApplet, owner: '1' }, 400, ['owner']);
    await expectRejected({ ...validApplet, trigger: { ...validApplet.trigger, foo: 1 } }, 400, [
      'trigger.foo',
    ]);
    const before = await appletCount();
    const response = await service.request('POST', '/v1/applets', {
      token: ada.token,
      rawJson: '{"trigger": ',
    });
    expect(response.status).toBe(400);
    expect(await appletCount()).toBe(before);
  });

  it('answers 422 naming the unknown service slugs, and writes nothing', async () => {
    await expectRejected({ ...validApplet, trigger: { ...validApplet.trigger, service: 'nope' } }, 422, [
      'trigger.service',
    ]);
    await expectRejected(
      {
        trigger: { ...validApplet.trigger, service: 'nope' },
        action: { ...validApplet.action, service: 'nada' },
      },
      422,
      ['trigger.service', 'action.service'],
    );
  });

  it('rejects an empty update and bad update fields without changing the applet', async () => {
    const created = await service.request('POST', '/v1/applets', { token: ada.token, body: validApplet });
    const applet = created.body as Applet;
    const empty = await service.request('PATCH', `/v1/applets/${applet.id}`, { token: ada.token, body: {} });
    expect(empty.status).toBe(400);
    const bad = await service.request('PATCH', `/v1/applets/${applet.id}`, {
      token: ada.token,
      body: { enabled: false, action: { fields: { text: '{{}}' } } },
    });
    expect(bad.status).toBe(400);
    expect((bad.body as { errors: { name: string }[] }).errors.map((e) => e.name)).toEqual([
      'action.fields.text',
    ]);
    const unchanged = await service.request('GET', `/v1/applets/${applet.id}`, { token: ada.token });
    expect(unchanged.body).toEqual(applet);
  });
});

describe('trigger identity', () => {
  it('is stable across key order and distinct across users and field values', async () => {
    const create = async (token: string, fields: Record<string, string>) => {
      const body = { ...validApplet, trigger: { ...validApplet.trigger, fields } };
      const response = await service.request('POST', '/v1/applets', { token, body });
      expect(response.status).toBe(201);
      return (response.body as Applet).trigger.trigger_identity;
    };
    const first = await create(ada.token, { city: 'Rome', units: 'metric' });
    const reordered = await create(ada.token, { units: 'metric', city: 'Rome' });
    const otherUser = await create(bob.token, { city: 'Rome', units: 'metric' });
    const otherFields = await create(ada.token, { city: 'Rome', units: 'imperial' });
    expect(reordered).toBe(first);
    expect(otherUser).not.toBe(first);
    expect(otherFields).not.toBe(first);
  });
});
