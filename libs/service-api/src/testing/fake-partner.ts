import type { AddressInfo } from 'node:net';
import type { ValidateFunction } from 'ajv';
import express from 'express';
import { serviceApiValidators } from './service-api-validators';

/** A partner event: `id`, Unix-seconds `timestamp`, and ingredients. */
export interface FakeEvent {
  id: string;
  timestamp: number;
  ingredients?: Record<string, string>;
  /**
   * Ingredients given as JSON text, written into the answer as they are: for values `JSON.stringify` cannot
   * write (an array 100,000 levels deep overflows its stack) but a partner's server may well send.
   */
  rawIngredients?: Record<string, string>;
}

/** One event of the answer as JSON text: its ingredients, `rawIngredients` spliced in as given, and `meta`. */
function eventJson(event: FakeEvent): string {
  const parsed = JSON.stringify({ ...event.ingredients, meta: { id: event.id, timestamp: event.timestamp } });
  const raw = Object.entries(event.rawIngredients ?? {}).map(
    ([name, json]) => `${JSON.stringify(name)}:${json},`,
  );
  return `{${raw.join('')}${parsed.slice(1)}`;
}

/** A trigger call the fake received. */
export interface FakeTriggerCall {
  triggerSlug: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A test double of one partner service: its trigger endpoint of the Service API, on 127.0.0.1. */
export interface FakePartner {
  url: string;
  serviceKey: string;
  calls: FakeTriggerCall[];
  /** Ways our requests broke the Service API schema (each answered 400); tests expect none. */
  requestProblems: string[];
  /** Adds events of a trigger identity; the fake answers them newest first. */
  addEvents(triggerIdentity: string, events: FakeEvent[]): void;
  /** Answers the next `count` trigger calls with `status` (default 503) instead of events. */
  failNext(count: number, status?: number): void;
  /** While true, trigger calls are never answered. */
  hang: boolean;
  /** The action endpoint: its calls and what it answers (see {@link FakeActionEndpoint}). */
  actions: FakeActionEndpoint;
  /** `DELETE /ifttt/v1/triggers/:slug/trigger_identity/:id`: see {@link FakeTriggerIdentityDeletes}. */
  triggerIdentityDeletes: FakeTriggerIdentityDeletes;
  close(): Promise<void>;
}

/**
 * Starts a fake partner: `POST /ifttt/v1/triggers/:slug` checks `IFTTT-Service-Key` (401 otherwise), checks
 * the request against the upstream `TriggerCheckRequest` schema, and answers the `limit` (default 50) newest
 * events of the request's `trigger_identity` as a `TriggerCheckResponse` (itself checked before sending).
 *
 * @example
 *   const partner = await startFakePartner();
 *   partner.addEvents('ti_1', [{ id: 'e1', timestamp: 1_700_000_000 }]);
 */
export async function startFakePartner(
  serviceKey = 'sk_fake_partner_0123456789abcdef',
): Promise<FakePartner> {
  // 'any': tests hand the engine malformed ingredients on purpose (rawIngredients).
  const validators = serviceApiValidators({ values: 'any' });
  const events = new Map<string, FakeEvent[]>();
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  const app = express();
  app.use(express.json());

  const partner: FakePartner = {
    url: '',
    serviceKey,
    calls: [],
    requestProblems: [],
    hang: false,
    actions: newFakeActionEndpoint(),
    addEvents(triggerIdentity, added) {
      const all = [...(events.get(triggerIdentity) ?? []), ...added];
      events.set(
        triggerIdentity,
        all.sort((a, b) => b.timestamp - a.timestamp),
      );
    },
    failNext(count, status = 503) {
      failures = { count, status };
    },
    triggerIdentityDeletes: mountTriggerIdentityDeletes(app, serviceKey),
    close: async () => undefined,
  };

  app.post('/ifttt/v1/triggers/:slug', (req, res) => {
    partner.calls.push({ triggerSlug: req.params.slug, headers: req.headers, body: req.body });
    if (partner.hang) return; // the socket is destroyed by close()
    if (req.get('ifttt-service-key') !== serviceKey) {
      res.status(401).json({ errors: [{ message: 'invalid service key' }] });
      return;
    }
    if (failures.count > 0) {
      failures.count--;
      res.status(failures.status).json({ errors: [{ message: 'try again later' }] });
      return;
    }
    if (!validators.request(req.body)) {
      partner.requestProblems.push(JSON.stringify(validators.request.errors));
      res.status(400).json({ errors: [{ message: 'invalid trigger request' }] });
      return;
    }
    const body = req.body as { trigger_identity: string; limit?: number };
    const data = (events.get(body.trigger_identity) ?? []).slice(0, body.limit ?? 50).map(eventJson);
    const answer = `{"data":[${data.join(',')}]}`;
    // JSON.parse reads any depth; the schema does not look inside ingredients, so this check never overflows.
    if (!validators.response(JSON.parse(answer))) {
      throw new Error(
        `fake partner answer breaks TriggerCheckResponse: ${JSON.stringify(validators.response.errors)}`,
      );
    }
    res.type('application/json').send(answer);
  });

  mountFakeActions(app, partner, validators.compile);

  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  partner.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  partner.close = () =>
    new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  return partner;
}

// ---------------------------------------------------------------------------------------------------------
// Actions: POST /ifttt/v1/actions/:slug (Service API "run action").

/** An action call the fake received. */
export interface FakeActionCall {
  actionSlug: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** What the fake answers an action call with instead of success. */
export type FakeActionAnswer =
  { kind: 'skip'; message: string } | { kind: 'status'; status: number; message?: string };

/**
 * The fake's action endpoint. By default a valid call is answered 200 `{data: [{id: 'rec-<n>'}]}` (n counts
 * the successful calls from 1); `answerNext` queues other answers, `hang` leaves calls unanswered.
 */
export interface FakeActionEndpoint {
  /** Every call received, in order, whatever was answered. */
  calls: FakeActionCall[];
  /** The ids answered on success, in order. */
  recordIds: string[];
  /** Answers the next `count` valid calls (right key, valid body) with `answer`; queued after earlier ones. */
  answerNext(count: number, answer: FakeActionAnswer): void;
  /** Shorthand: the next `count` valid calls get a 400 `SKIP` with `message`. */
  skipNext(count: number, message?: string): void;
  /** Shorthand: the next `count` valid calls get `status` (default 503). */
  failNext(count: number, status?: number): void;
  /** While true, action calls are never answered. */
  hang: boolean;
}

function newFakeActionEndpoint(): FakeActionEndpoint {
  const queued: FakeActionAnswer[] = [];
  const endpoint: FakeActionEndpoint & { queued: FakeActionAnswer[] } = {
    calls: [],
    recordIds: [],
    hang: false,
    queued,
    answerNext(count, answer) {
      for (let i = 0; i < count; i++) queued.push(answer);
    },
    skipNext(count, message = 'nothing to do') {
      endpoint.answerNext(count, { kind: 'skip', message });
    },
    failNext(count, status = 503) {
      endpoint.answerNext(count, { kind: 'status', status, message: 'try again later' });
    },
  };
  return endpoint;
}

/**
 * Mounts `POST /ifttt/v1/actions/:slug`: records the call, checks `IFTTT-Service-Key` (401 otherwise), checks
 * the body against the upstream `ActionRunRequest` (400 and a `requestProblems` entry otherwise), then answers
 * the next queued answer or success; every answer is checked against `ActionRunResponse` / `ErrorResponse`
 * before it is sent.
 */
function mountFakeActions(
  app: express.Express,
  partner: FakePartner,
  compile: (name: string) => ValidateFunction,
): void {
  const validRequest = compile('ActionRunRequest');
  const validResponse = compile('ActionRunResponse');
  const validError = compile('ErrorResponse');
  const endpoint = partner.actions as FakeActionEndpoint & { queued: FakeActionAnswer[] };
  const send = (res: express.Response, status: number, body: unknown, validate: ValidateFunction): void => {
    if (!validate(body)) {
      throw new Error(
        `fake partner action answer breaks the Service API: ${JSON.stringify(validate.errors)}`,
      );
    }
    res.status(status).json(body);
  };

  app.post('/ifttt/v1/actions/:slug', (req, res) => {
    endpoint.calls.push({ actionSlug: req.params.slug, headers: req.headers, body: req.body });
    if (endpoint.hang) return; // the socket is destroyed by close()
    if (req.get('ifttt-service-key') !== partner.serviceKey) {
      send(res, 401, { errors: [{ message: 'invalid service key' }] }, validError);
      return;
    }
    if (!validRequest(req.body)) {
      partner.requestProblems.push(JSON.stringify(validRequest.errors));
      send(res, 400, { errors: [{ message: 'invalid action request' }] }, validError);
      return;
    }
    const answer = endpoint.queued.shift();
    if (answer?.kind === 'skip') {
      send(res, 400, { errors: [{ status: 'SKIP', message: answer.message }] }, validError);
      return;
    }
    if (answer?.kind === 'status') {
      send(
        res,
        answer.status,
        { errors: [{ message: answer.message ?? `HTTP ${answer.status}` }] },
        validError,
      );
      return;
    }
    const id = `rec-${endpoint.recordIds.length + 1}`;
    endpoint.recordIds.push(id);
    send(res, 200, { data: [{ id }] }, validResponse);
  });
}

// --- Trigger identity deletes (DELETE /ifttt/v1/triggers/:slug/trigger_identity/:trigger_identity) ---

/** A trigger identity DELETE the fake received. */
export interface FakeTriggerIdentityDelete {
  triggerSlug: string;
  triggerIdentity: string;
  headers: Record<string, string | string[] | undefined>;
  /** The status the fake answered. */
  status: number;
}

/** The fake's trigger identity DELETE endpoint: what it received and how it answers next. */
export interface FakeTriggerIdentityDeletes {
  calls: FakeTriggerIdentityDelete[];
  /** Trigger identities this partner knows (it got a trigger call for them; tests may add more); others get 404. */
  readonly known: Set<string>;
  /** Answers the next `count` DELETEs with `status` (default 503). */
  failNext(count: number, status?: number): void;
}

/**
 * Mounts `DELETE /ifttt/v1/triggers/:slug/trigger_identity/:trigger_identity` (IFTTT Service API: the engine
 * calls it when no applet uses a trigger identity any more; see ../shared/reference/README.md; the OpenAPI
 * file does not describe it). It checks `IFTTT-Service-Key` (401 otherwise) and that `X-Request-ID` is sent
 * (400 otherwise), then answers 200 `{}` for a known identity (forgetting it) and 404 for an unknown one,
 * unless `failNext` asked for another status. Every call is kept with the status it got.
 *
 * @example
 *   const partner = await startFakePartner();
 *   partner.triggerIdentityDeletes.failNext(1, 503);
 *   // ... later: partner.triggerIdentityDeletes.calls.map((call) => call.status) -> [503, 200]
 */
function mountTriggerIdentityDeletes(app: express.Express, serviceKey: string): FakeTriggerIdentityDeletes {
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  const deletes: FakeTriggerIdentityDeletes = {
    calls: [],
    known: new Set<string>(),
    failNext(count, status = 503) {
      failures = { count, status };
    },
  };
  // Identities become known from trigger calls (the partner keeps state per identity from its first poll).
  app.use('/ifttt/v1/triggers/:slug', (req, _res, next) => {
    const identity = (req.body as { trigger_identity?: unknown } | undefined)?.trigger_identity;
    if (req.method === 'POST' && typeof identity === 'string') deletes.known.add(identity);
    next();
  });
  app.delete('/ifttt/v1/triggers/:slug/trigger_identity/:triggerIdentity', (req, res) => {
    const answer = (status: number, body: unknown): void => {
      deletes.calls.push({
        triggerSlug: req.params.slug,
        triggerIdentity: req.params.triggerIdentity,
        headers: req.headers,
        status,
      });
      res.status(status).json(body);
    };
    if (req.get('ifttt-service-key') !== serviceKey) {
      answer(401, { errors: [{ message: 'invalid service key' }] });
      return;
    }
    if (!req.get('x-request-id')) {
      answer(400, { errors: [{ message: 'X-Request-ID is required' }] });
      return;
    }
    if (failures.count > 0) {
      failures.count--;
      answer(failures.status, { errors: [{ message: 'try again later' }] });
      return;
    }
    if (!deletes.known.delete(req.params.triggerIdentity)) {
      answer(404, { errors: [{ message: 'unknown trigger identity' }] });
      return;
    }
    answer(200, {});
  });
  return deletes;
}
