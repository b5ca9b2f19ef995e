import { decimalInteger, HttpProblem, parseRequest, text } from '@ittd/platform';
import { Router } from 'express';
import { z } from 'zod';
import { listActionRecords } from '../data/action-record-repository';
import type { PartnerSandboxDatabase } from '../data/database';
import { insertItem, listItems } from '../data/item-repository';
import { listTriggerIdentities } from '../data/trigger-identity-repository';
import { saveUser } from '../data/user-repository';
import { accessTokenFor, USER_ID_PATTERN } from '../domain/access-token';
import type { FaultState } from '../domain/fault-state';
import { faultsPatch } from '../domain/faults';
import { ACTION_SLUGS, LISTS, NEW_ITEM } from '../domain/sandbox-catalog';
import { triggerEvents } from '../domain/trigger-events';
import { notifyEngine } from '../realtime/engine-notifier';

const listValue = z.enum(LISTS.map((list) => list.value) as [string, ...string[]]);

const createUserBody = z.object({
  id: text().regex(USER_ID_PATTERN, { error: 'expected 1-64 characters among A-Z a-z 0-9 _ -' }),
  name: text().trim().min(1).max(255),
});

const createItemBody = z.object({
  list: listValue,
  title: text().trim().min(1, { error: 'must not be empty' }).max(500),
  description: text().max(5000).optional(),
});

const listEventsQuery = z.object({
  list: listValue.default('inbox'),
  limit: decimalInteger({ min: 0, max: 500 }).default(50),
});

const limitQuery = z.object({ limit: decimalInteger({ min: 1, max: 1000 }).default(100) });

const triggerIdentity = text().min(1).max(255);
const notificationRequest = z.object({
  engine_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  data: z
    .array(
      z.union([
        z.object({ trigger_identity: triggerIdentity }).strict(),
        z.object({ user_id: text().min(1).max(128) }).strict(),
      ]),
    )
    .min(1)
    .max(1000)
    .optional(),
});

/** What the control routes need. */
export interface ControlDeps {
  db: PartnerSandboxDatabase;
  serviceKey: string;
  faults: FaultState;
  engineUrl?: string;
  notifyTimeoutMs: number;
}

/**
 * The control API, relative to `/control` (behind CONTROL_TOKEN; answers problem+json): what a developer or
 * a test does to the sandbox that IFTTT never does. See README.md for each route.
 *
 * @example
 *   app.use('/control', requireBearerToken(config.CONTROL_TOKEN), controlRoutes(deps));
 */
export function controlRoutes(deps: ControlDeps): Router {
  const { db } = deps;
  const router = Router();

  router.post('/users', async (req, res) => {
    const body = parseRequest(createUserBody, req.body, 'The user is invalid.');
    const user = await saveUser(db, body);
    res.status(201).json({ ...user, access_token: accessTokenFor(deps.serviceKey, user.id) });
  });

  router.post(`/triggers/${NEW_ITEM}/events`, async (req, res) => {
    const body = parseRequest(createItemBody, req.body, 'The item is invalid.');
    const item = await insertItem(db, body);
    const [event] = await triggerEvents(db, NEW_ITEM, { list: item.list }, 1, new Date());
    res.status(201).json({ list: item.list, event });
  });

  router.get(`/triggers/${NEW_ITEM}/events`, async (req, res) => {
    const { list, limit } = parseRequest(listEventsQuery, req.query, 'The query is invalid.');
    const items = await listItems(db, list, limit);
    res.json({
      data: items.map((item) => ({
        id: `item-${item.id}`,
        list: item.list,
        title: item.title,
        description: item.description,
        created_at: item.createdAt.toISOString(),
      })),
    });
  });

  router.get('/trigger-identities', async (req, res) => {
    const { limit } = parseRequest(limitQuery, req.query, 'The query is invalid.');
    res.json({ data: await listTriggerIdentities(db, { limit }) });
  });

  router.get('/actions/:actionSlug/records', async (req, res) => {
    if (!ACTION_SLUGS.includes(req.params.actionSlug)) {
      throw new HttpProblem(404, { detail: `There is no action ${req.params.actionSlug}.` });
    }
    const { limit } = parseRequest(limitQuery, req.query, 'The query is invalid.');
    res.json({ data: await listActionRecords(db, req.params.actionSlug, limit) });
  });

  router.post('/notifications', async (req, res) => {
    const body = parseRequest(notificationRequest, req.body ?? {}, 'The notification request is invalid.');
    const engineUrl = body.engine_url ?? deps.engineUrl;
    if (engineUrl === undefined) {
      throw new HttpProblem(400, {
        detail: 'No engine to notify: send engine_url or set ENGINE_URL.',
        errors: [{ name: 'engine_url', reason: 'required when ENGINE_URL is not set' }],
      });
    }
    const data =
      body.data ??
      (await listTriggerIdentities(db, { limit: 1000 })).map((known) => ({
        trigger_identity: known.triggerIdentity,
      }));
    if (data.length === 0) {
      throw new HttpProblem(409, { detail: 'No trigger identity was polled yet: nothing to notify.' });
    }
    const engine = await notifyEngine({
      engineUrl,
      serviceKey: deps.serviceKey,
      requestId: req.id,
      data,
      timeoutMs: deps.notifyTimeoutMs,
    });
    res.json({ sent: data, engine });
  });

  router.get('/faults', async (_req, res) => {
    res.json(await deps.faults.current());
  });

  router.put('/faults', async (req, res) => {
    const patch = parseRequest(faultsPatch, req.body, 'The faults are invalid.');
    const { faults } = await deps.faults.current();
    await deps.faults.set({ ...faults, ...patch });
    res.json(await deps.faults.current());
  });

  router.delete('/faults', async (_req, res) => {
    await deps.faults.reset();
    res.json(await deps.faults.current());
  });

  return router;
}
