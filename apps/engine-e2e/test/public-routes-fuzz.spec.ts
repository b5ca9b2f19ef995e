import { randomBytes } from 'node:crypto';
import { startService, type ConfigSchema, type RunningService } from '@ittd/platform';
import { createTestDatabase, type TestDatabase } from '@ittd/platform/testing';
import { partnerSandboxService } from '@ittd/partner-sandbox/src/partner-sandbox-service';
import { computeTriggerIdentity } from '@ittd/applets/src/domain/trigger-identity';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import type { Express } from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observed, startEngine, type Engine } from './support/engine';
import {
  closeFuzzSockets,
  routeRequests,
  send,
  unknownPathRequests,
  type FuzzAnswer,
  type FuzzRequest,
  type FuzzTarget,
} from './support/fuzz-requests';
import { listRoutes, type RouteEntry } from './support/route-table';

/**
 * Fixed, so a run is repeatable; a failure prints the seed and path fast-check needs to replay it. FUZZ_SEED
 * and FUZZ_RUNS (requests per route) let someone hunt longer by hand; the defaults keep the file to seconds.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_130);
/** Generated requests per route, and for unknown paths per service. */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 60);
const UNKNOWN_PATH_RUNS = 2 * RUNS_PER_ROUTE;
/** BODY_LIMIT of every service here (the platform's default). */
const BODY_LIMIT = 100 * 1024;

/** One web app under fuzz. */
interface FuzzedService {
  name: string;
  url: string;
  app: Express;
  target: FuzzTarget;
  /** Whether a 4xx at `path` is in the IFTTT Service API's error shape (`{ errors: [{ message }] }`) rather than problem+json. */
  serviceApiShape?: (path: string) => boolean;
  /** Sort key: routes fuzzed later (the sandbox's control API, whose faults would turn its Service API's answers into 503s). */
  late?: (route: RouteEntry) => boolean;
}

/** Why `answer` breaks the promise "no 5xx; a 4xx says why in the promised shape", or `undefined`. */
function brokenPromise(service: FuzzedService, req: FuzzRequest, answer: FuzzAnswer): string | undefined {
  if (answer.status >= 500) return `answered ${answer.status}: ${answer.text.slice(0, 300)}`;
  if (answer.status < 400) return undefined;
  if (service.serviceApiShape?.(req.path)) {
    if (req.method === 'HEAD') return undefined;
    try {
      const body = JSON.parse(answer.text) as { errors?: { message?: unknown }[] };
      if (Array.isArray(body.errors) && body.errors.length > 0 && typeof body.errors[0].message === 'string')
        return undefined;
    } catch {
      // reported below
    }
    return `${answer.status} not in the Service API's error shape: ${answer.text.slice(0, 200)}`;
  }
  if (!answer.contentType.startsWith('application/problem+json'))
    return `${answer.status} with content-type "${answer.contentType}", not problem+json: ${answer.text.slice(0, 200)}`;
  return undefined;
}

/** A short, printable form of a request for failure messages. */
function describeRequest(req: FuzzRequest): string {
  const body =
    req.body === undefined
      ? ''
      : ` body(${Buffer.byteLength(req.body)} bytes)=${JSON.stringify(String(req.body).slice(0, 200))}`;
  return `${req.method} ${req.path.slice(0, 300)} headers=${JSON.stringify(req.headers).slice(0, 300)}${body}`;
}

describe('every public route of every web app answers generated requests without a 5xx', () => {
  let engine: Engine;
  let partner: FakePartner;
  let sandbox: RunningService<ConfigSchema, unknown> | undefined;
  let sandboxDatabase: TestDatabase | undefined;
  const apps = new Map<string, Express>();
  const services: FuzzedService[] = [];

  beforeAll(async () => {
    partner = await startFakePartner('sk_fuzz_weather_0123456789abcdef');
    const noRateLimit = { PREAUTH_RATE_LIMIT_PER_MINUTE: '1000000', API_RATE_LIMIT_PER_MINUTE: '1000000' };
    engine = await startEngine(
      { applets: noRateLimit, triggerPoller: { PREAUTH_RATE_LIMIT_PER_MINUTE: '1000000' } },
      { onWebApp: (name, app) => apps.set(name, app) },
    );
    sandboxDatabase = await createTestDatabase('partner_sandbox_fuzz');
    const sandboxKey = `sk_${randomBytes(16).toString('hex')}`;
    const controlToken = randomBytes(24).toString('base64url');
    sandbox = (await startService(
      observed(partnerSandboxService, (name, app) => apps.set(name, app)),
      {
        env: {
          DATABASE_URL: sandboxDatabase.url,
          LOG_LEVEL: 'silent',
          DATABASE_POOL_MAX: '4',
          SERVICE_KEY: sandboxKey,
          CONTROL_TOKEN: controlToken,
          FAULT_REFRESH_MS: '100',
          ENGINE_URL: engine.triggerPoller.url,
        },
        port: 0,
        host: '127.0.0.1',
      },
    )) as unknown as RunningService<ConfigSchema, unknown>;

    // Valid fixtures, so authenticated routes are exercised past authentication and validation.
    const admin = engine.applets.adminToken;
    const registered = await engine.applets.request('POST', '/admin/services', {
      token: admin,
      body: { slug: 'weather', name: 'weather', api_base_url: partner.url, service_key: partner.serviceKey },
    });
    expect(registered.status).toBe(201);
    const user = await engine.applets.request('POST', '/admin/users', {
      token: admin,
      body: { name: 'ada', timezone: 'Europe/Berlin' },
    });
    expect(user.status).toBe(201);
    const { token: userToken, user: created } = user.body as { token: string; user: { id: string } };
    const fields = { city: 'Berlin' };
    const appletBody = {
      trigger: { service: 'weather', slug: 'new_item', fields },
      action: { service: 'weather', slug: 'record_message', fields: { text: 'Rain in {{City}}' } },
    };
    const applet = await engine.applets.request('POST', '/v1/applets', {
      token: userToken,
      body: appletBody,
    });
    expect(applet.status).toBe(201);
    const appletId = (applet.body as { id: string }).id;
    const triggerIdentity = computeTriggerIdentity({
      userId: created.id,
      serviceSlug: 'weather',
      triggerSlug: 'new_item',
      fields,
    });
    const sandboxUser = await fetch(`${sandbox.url}/control/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${controlToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'fuzz_user', name: 'Fuzz' }),
    });
    expect(sandboxUser.status).toBe(201);
    const { access_token: sandboxUserToken } = (await sandboxUser.json()) as { access_token: string };

    // A second user for the admin routes' `:id`, so that revoking its tokens leaves the fixture user's token working.
    const victim = await engine.applets.request('POST', '/admin/users', {
      token: admin,
      body: { name: 'bob', timezone: 'UTC' },
    });
    expect(victim.status).toBe(201);
    const params = {
      id: [appletId, (victim.body as { user: { id: string } }).user.id],
      applet_id: [appletId],
      slug: ['weather'],
      triggerIdentity: [triggerIdentity],
      triggerSlug: ['new_item'],
      actionSlug: ['record_message', 'add_item'],
      stepSlug: ['new_item', 'record_message'],
      fieldSlug: ['city', 'list'],
    };
    const engineBodies = {
      'POST /admin/users': [{ name: 'grace', timezone: 'UTC' }],
      'PATCH /admin/users/:id': [{ name: 'ada lovelace' }, { timezone: 'Asia/Tokyo' }],
      'POST /admin/services': [
        { slug: 'notes', name: 'notes', api_base_url: partner.url, service_key: partner.serviceKey },
      ],
      'PATCH /admin/services/:slug': [{ name: 'Weather' }, { api_base_url: partner.url }],
      'POST /v1/tokens': [{ name: 'cli' }, {}],
      'POST /v1/applets': [appletBody],
      'PATCH /v1/applets/:id': [
        { enabled: false },
        { trigger: { fields: { city: 'Paris' } } },
        { action: { fields: { text: 'Sun in {{City}}' } }, enabled: true },
      ],
      'POST /v1/notifications': [
        { data: [{ trigger_identity: triggerIdentity }] },
        { data: [{ user_id: created.id }] },
      ],
      'PUT /admin/partners/:slug': [{ api_base_url: partner.url, service_key: partner.serviceKey }],
      'PUT /admin/subscriptions/:triggerIdentity': [
        { service_slug: 'weather', trigger_slug: 'new_item', trigger_fields: fields, user_id: created.id },
      ],
    };
    const engineTarget = (credentials: Record<string, string>[]): FuzzTarget => ({
      credentials,
      params,
      bodies: engineBodies,
      bodyLimit: BODY_LIMIT,
    });
    services.push(
      {
        name: 'applets',
        url: engine.applets.url,
        app: apps.get('applets') as Express,
        target: engineTarget([
          { authorization: `Bearer ${admin}` },
          { authorization: `Bearer ${userToken}` },
        ]),
      },
      {
        name: 'trigger-poller',
        url: engine.triggerPoller.url,
        app: apps.get('trigger-poller') as Express,
        target: engineTarget([
          { authorization: `Bearer ${engine.triggerPoller.adminToken}` },
          { 'ifttt-service-key': partner.serviceKey },
        ]),
      },
      {
        name: 'actions',
        url: engine.actions.url,
        app: apps.get('actions') as Express,
        target: engineTarget([{ authorization: `Bearer ${engine.actions.adminToken}` }]),
      },
      {
        name: 'partner-sandbox',
        url: sandbox.url,
        app: apps.get('partner-sandbox') as Express,
        target: {
          credentials: [
            { 'ifttt-service-key': sandboxKey },
            { authorization: `Bearer ${sandboxUserToken}` },
            { authorization: `Bearer ${controlToken}` },
          ],
          params,
          bodies: {
            'POST /ifttt/v1/triggers/:triggerSlug': [
              { trigger_identity: 'ti_fuzz', triggerFields: { list: 'inbox' }, user: { timezone: 'UTC' } },
            ],
            'POST /ifttt/v1/actions/:actionSlug': [
              { actionFields: { list: 'inbox', title: 't' }, user: { timezone: 'UTC' } },
            ],
            'POST /control/users': [{ id: 'u2', name: 'Second' }],
            'POST /control/triggers/new_item/events': [{ list: 'inbox', title: 'an item' }],
            'POST /control/notifications': [{ data: [{ user_id: 'fuzz_user' }] }],
          },
          bodyLimit: BODY_LIMIT,
        },
        serviceApiShape: (path) => path.startsWith('/ifttt/v1/'),
        late: (route) => route.path.startsWith('/control'),
      },
    );
  }, 120_000);

  afterAll(async () => {
    closeFuzzSockets();
    await sandbox?.stop();
    await sandboxDatabase?.drop();
    await engine?.stop();
    await partner?.close();
  });

  it('reads the routes of every web app from its router stack', () => {
    expect(services.map((service) => service.name)).toEqual([
      'applets',
      'trigger-poller',
      'actions',
      'partner-sandbox',
    ]);
    for (const service of services) {
      const routes = listRoutes(service.app).map((route) => `${route.method} ${route.path}`);
      // The platform's health routes and at least one route of the service's own.
      expect(routes).toContain('GET /health/ready');
      expect(routes.length).toBeGreaterThan(3);
    }
    const applets = listRoutes(services[0].app).map((route) => `${route.method} ${route.path}`);
    expect(applets).toContain('GET /v1/applets/:id');
    expect(applets).toContain('PATCH /admin/services/:slug');
  });

  it('sends every route, unknown paths and methods generated requests: no 5xx, 4xx in the promised shape, no crash', async () => {
    const failures: string[] = [];
    const summary: Record<string, Record<string, number>> = {};
    for (const service of services) {
      const counts: Record<string, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
      summary[service.name] = counts;
      const routes = listRoutes(service.app);
      const prefixes = [...new Set(routes.map((route) => route.path.split('/').slice(0, 2).join('/')))];
      // Unknown paths first, the routes that change the service's behaviour (and deletions) last.
      const order = (route: RouteEntry): number =>
        (service.late?.(route) ? 2 : 0) + (route.method === 'DELETE' ? 1 : 0);
      const runs: { what: string; arbitrary: fc.Arbitrary<FuzzRequest>; numRuns: number }[] = [
        {
          what: 'unknown paths',
          arbitrary: unknownPathRequests(service.target, prefixes),
          numRuns: UNKNOWN_PATH_RUNS,
        },
        ...[...routes]
          .sort((a, b) => order(a) - order(b))
          .map((route) => ({
            what: `${route.method} ${route.path}`,
            arbitrary: routeRequests(service.target, route),
            numRuns: RUNS_PER_ROUTE,
          })),
      ];
      for (const run of runs) {
        const property = fc.asyncProperty(run.arbitrary, async (req) => {
          const answer = await send(service.url, req);
          const klass = `${Math.floor(answer.status / 100)}xx`;
          counts[klass] = (counts[klass] ?? 0) + 1;
          const broken = brokenPromise(service, req, answer);
          if (broken) throw new Error(`${broken}\n    for ${describeRequest(req)}`);
        });
        const details = await fc.check(property, { seed: SEED, numRuns: run.numRuns, endOnFailure: false });
        if (details.failed) {
          failures.push(
            `${service.name} ${run.what} (seed ${details.seed}, path "${details.counterexamplePath}"): ${
              details.errorInstance instanceof Error
                ? details.errorInstance.message
                : String(details.errorInstance)
            }`,
          );
        }
      }
      const ready = await send(service.url, { method: 'GET', path: '/health/ready', headers: {} });
      if (ready.status !== 200)
        failures.push(`${service.name}: /health/ready answered ${ready.status} after the fuzz`);
    }
    console.log(
      `requests sent per status class:\n${Object.entries(summary)
        .map(([name, counts]) => `  ${name}: ${JSON.stringify(counts)}`)
        .join('\n')}`,
    );
    expect(failures).toEqual([]);
    for (const counts of Object.values(summary)) expect(counts['2xx']).toBeGreaterThan(0);
  }, 150_000);
});
