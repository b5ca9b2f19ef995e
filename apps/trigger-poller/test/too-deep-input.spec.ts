import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JobPayloadError, MAX_JSON_DEPTH, TOO_DEEP_REASON } from '@ittd/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollJobs } from '../src/jobs/poll-jobs';
import { pollTrigger, type PollDependencies } from '../src/jobs/poll-trigger-job';
import { fetchTriggerEvents } from '../src/partner/partner-trigger-client';
import { errorsOf } from './support/problem-errors';
import { startFakePartner, type FakePartner } from '@ittd/service-api/testing';
import {
  pollDependencies,
  startTriggerPollerTestService,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';
import { partnerSecurity } from '@ittd/platform';

// The neighbour of issue 7, item 6: a JSON value from outside too deep or too large to be stored or
// re-encoded. JSON.parse reads an array 100,000 levels deep, but JSON.stringify overflows its stack on it and
// Postgres refuses such jsonb (54001). Requests with one get a 400 naming the field and nothing is written;
// a partner event with one is refused alone (the others stored); a partner answer over
// PARTNER_MAX_ANSWER_BYTES fails the call before it is parsed.

/** Arrays nested `levels` deep around `inner` (JSON text). */
function nested(levels: number, inner = ''): string {
  return `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
}

const DEEP = nested(100_000);

let service: TriggerPollerTestService;
let partner: FakePartner;

const deps = (maxAnswerBytes = 1_048_576): PollDependencies =>
  pollDependencies(service, { eventLimit: 10, maxAnswerBytes });
const call = () => ({ signal: new AbortController().signal, requestId: 'test-too-deep' });

beforeAll(async () => {
  service = await startTriggerPollerTestService();
  partner = await startFakePartner();
  await service.subscribe('ti_known', partner, { user_id: 'alice' });
});

afterAll(async () => {
  await partner?.close();
  await service?.stop();
});

describe('requests nested 100,000 levels deep (the default 256kb BODY_LIMIT holds them)', () => {
  const valid = '"service_slug":"fake","trigger_slug":"new_thing","user_id":"bob"';

  it('PUT /admin/subscriptions with a deep trigger field: 400 naming it, nothing written', async () => {
    for (const [fields, name] of [
      [`{"city":${DEEP}}`, 'trigger_fields.city'],
      // A Location whose address is not a string is not a Location: zod names the field, not the address.
      [`{"where":{"lat":1,"lng":2,"address":${DEEP}}}`, 'trigger_fields.where'],
      [DEEP, 'trigger_fields'],
    ]) {
      const response = await service.request('PUT', '/admin/subscriptions/ti_deep_fields', {
        token: service.adminToken,
        rawJson: `{${valid},"trigger_fields":${fields}}`,
      });
      expect(response.status, response.text).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(Object.keys(errorsOf(response.body))).toEqual([name]);
    }
    expect(await service.storedSubscriptionIds()).toEqual(['ti_known']);
  });

  it('POST /v1/notifications with a deep body or entry: 400 naming it, nothing enqueued', async () => {
    for (const [rawJson, name] of [
      [DEEP, '(body)'],
      [`{"data":${DEEP}}`, 'data.0'],
      [`{"data":[{"user_id":"alice"},{"user_id":${DEEP}}]}`, 'data.1.user_id'],
    ]) {
      const response = await service.request('POST', '/v1/notifications', {
        headers: { 'IFTTT-Service-Key': partner.serviceKey },
        rawJson,
      });
      expect(response.status, response.text).toBe(400);
      expect(Object.keys(errorsOf(response.body))).toEqual([name]);
    }
    expect(await service.waitingPolls()).toEqual([]);
  });
});

describe('a poll-trigger job payload with a key nested 100,000 levels deep', () => {
  it('is refused at enqueue with a JobPayloadError naming the key, nothing enqueued', async () => {
    const { queue, pollTrigger: job } = pollJobs(service.ctx);
    const payload = { trigger_identity: 'ti_payload', extra: JSON.parse(DEEP) as unknown };
    // Without the strict payload schema this was a RangeError from JSON.stringify inside enqueue.
    const enqueued = queue.enqueue(job, payload as { trigger_identity: string });
    await expect(enqueued).rejects.toBeInstanceOf(JobPayloadError);
    await expect(enqueued).rejects.toThrow(/invalid payload for job "poll-trigger"[\s\S]*extra/);
    expect(await service.waitingPolls()).toEqual([]);
  });
});

describe('a partner answer with an event too deep to store', () => {
  it('refuses that event alone, naming where the limit was passed, and stores the others', async () => {
    await service.subscribe('ti_deep', partner);
    partner.addEvents('ti_deep', [
      { id: 'fine', timestamp: 1_700_000_001, ingredients: { title: 'Köln 🌧' } },
      { id: 'deep', timestamp: 1_700_000_002, rawIngredients: { list: DEEP } },
      { id: 'deep_key', timestamp: 1_700_000_003, rawIngredients: { ['__proto__']: `{"a":${DEEP}}` } },
      // Exactly the limit: stored as it came, and answered by the events route (res.json re-encodes it).
      {
        id: 'at_limit',
        timestamp: 1_700_000_004,
        rawIngredients: { list: nested(MAX_JSON_DEPTH - 1, '"x"') },
      },
    ]);

    const checked = await fetchTriggerEvents({
      apiBaseUrl: partner.url,
      urlPolicy: partnerSecurity(service.ctx).urlPolicy,
      serviceKey: partner.serviceKey,
      serviceSlug: 'fake',
      triggerSlug: 'new_thing',
      triggerIdentity: 'ti_deep',
      triggerFields: {},
      userTimezone: 'UTC',
      limit: 10,
      timeoutMs: 5000,
      maxAnswerBytes: 1_048_576,
      signal: new AbortController().signal,
      requestId: 'test-too-deep-fetch',
    });
    expect(checked.events.map((event) => event.eventId)).toEqual(['at_limit', 'fine']);
    expect(checked.refused).toEqual([
      {
        index: 1,
        eventId: 'deep_key',
        errors: [
          {
            name: ['__proto__', 'a', ...Array(MAX_JSON_DEPTH - 2).fill(0)].join('.'),
            reason: TOO_DEEP_REASON,
          },
        ],
      },
      {
        index: 2,
        eventId: 'deep',
        errors: [{ name: ['list', ...Array(MAX_JSON_DEPTH - 1).fill(0)].join('.'), reason: TOO_DEEP_REASON }],
      },
    ]);

    expect(await pollTrigger(deps(), 'ti_deep', call())).toEqual({
      found: true,
      baseline: true,
      received: 4,
      recorded: 2,
      refused: 2,
      published: 0,
    });
    expect(await service.storedEventIds('ti_deep')).toEqual(['at_limit', 'fine']);
    const events = await service.request('GET', '/admin/subscriptions/ti_deep/events', {
      token: service.adminToken,
    });
    expect(events.status).toBe(200);
    const atLimit = (events.body as { data: { event_id: string; payload: { list: unknown } }[] }).data.find(
      (event) => event.event_id === 'at_limit',
    );
    expect(atLimit?.payload.list).toEqual(JSON.parse(nested(MAX_JSON_DEPTH - 1, '"x"')));
  });
});

describe('a partner answer over PARTNER_MAX_ANSWER_BYTES', () => {
  it('fails the call before parsing it (Content-Length announced), nothing stored', async () => {
    await service.subscribe('ti_large', partner);
    partner.addEvents('ti_large', [
      { id: 'small', timestamp: 1_700_000_001 },
      { id: 'large', timestamp: 1_700_000_002, ingredients: { blob: 'x'.repeat(2 * 1024 * 1024) } },
    ]);
    expect((await pollTrigger(deps(1_048_576), 'ti_large', call())).failed).toMatch(
      /answered HTTP 200 with a body over 1048576 bytes \(PARTNER_MAX_ANSWER_BYTES\)/,
    );
    expect(await service.storedEventIds('ti_large')).toEqual([]);
    // Under a larger limit the same answer is read and stored.
    await pollTrigger(deps(4 * 1024 * 1024), 'ti_large', call());
    expect(await service.storedEventIds('ti_large')).toEqual(['large', 'small']);
  });

  it('stops reading a chunked answer once past the limit', async () => {
    // A partner that streams without Content-Length, far more than the limit, and never ends on its own.
    let sent = 0;
    const streaming: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":[{"meta":{"id":"e","timestamp":1},"blob":"');
      const chunk = 'x'.repeat(64 * 1024);
      const timer = setInterval(() => {
        if (res.destroyed || sent > 64 * 1024 * 1024) {
          clearInterval(timer);
          res.end();
          return;
        }
        sent += chunk.length;
        res.write(chunk);
      }, 1);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => streaming.listen(0, '127.0.0.1', resolve));
    try {
      const port = (streaming.address() as AddressInfo).port;
      await service.subscribe('ti_stream', {
        url: `http://127.0.0.1:${port}`,
        serviceKey: partner.serviceKey,
      });
      const outcome = await pollTrigger(deps(256 * 1024), 'ti_stream', call());
      expect(outcome.failed).toMatch(/body over 262144 bytes/);
      expect(sent).toBeLessThan(64 * 1024 * 1024);
      expect(await service.storedEventIds('ti_stream')).toEqual([]);
    } finally {
      streaming.closeAllConnections();
      await new Promise<void>((resolve) => streaming.close(() => resolve()));
    }
  });
});
