import { HttpProblem, parseRequest, text } from '@ittd/platform';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { PartnerSandboxDatabase } from '../data/database';
import { forgetTriggerIdentity, recordPoll } from '../data/trigger-identity-repository';
import { findUser } from '../data/user-repository';
import { runAction } from '../domain/run-action';
import { FIELD_OPTIONS, validateFieldValue } from '../domain/sandbox-catalog';
import {
  actionRunRequest,
  triggerCheckRequest,
  validateFieldRequest,
  validateFieldsRequest,
} from '../domain/service-api-requests';
import { prepareTestSetup } from '../domain/test-setup';
import { isTrigger, triggerEvents } from '../domain/trigger-events';
import { serviceApiAuth } from './service-api-auth';

/** The trigger identity of a DELETE path: the same rule as in a trigger request. */
const identityParams = z.object({ triggerIdentity: text().min(1).max(255) });

/** The path parameters of a route (Express types them loosely when a handler follows middleware). */
function pathParams(req: Request): Record<string, string> {
  return req.params as Record<string, string>;
}

/**
 * The IFTTT Service API of the sandbox, relative to `/ifttt/v1` (../shared/reference/ifttt/service-api.yaml
 * and its README): status, test setup, user info, the triggers `new_item` and `clock_tick` with their field
 * options and validation and the trigger identity DELETE, and the actions `record_message` and `add_item`
 * with their field options. Request bodies are checked (400 naming the field; unknown keys ignored); errors
 * are answered by `serviceApiErrors` as the Service API's `ErrorResponse`.
 *
 * @example
 *   app.use('/ifttt/v1', faultInjection(state, hangMs), serviceApiRoutes(db, serviceKey), serviceApiErrors);
 */
export function serviceApiRoutes(db: PartnerSandboxDatabase, serviceKey: string): Router {
  const router = Router();
  const service = serviceApiAuth(db, serviceKey, 'service');
  const serviceOrUser = serviceApiAuth(db, serviceKey, 'service-or-user');
  const user = serviceApiAuth(db, serviceKey, 'user');

  router.get('/status', service, (_req, res) => {
    res.json({ data: { status: 'ok' } });
  });

  router.post('/test/setup', service, async (_req, res) => {
    res.json({ data: await prepareTestSetup(db, serviceKey) });
  });

  router.get('/user/info', user, async (_req, res) => {
    const found = await findUser(db, res.locals.userId as string);
    if (found === undefined) throw new HttpProblem(401, { detail: 'The user no longer exists.' });
    res.json({ data: { id: found.id, name: found.name } });
  });

  router.post('/triggers/:triggerSlug', serviceOrUser, async (req, res) => {
    const { triggerSlug } = pathParams(req);
    if (!isTrigger(triggerSlug))
      throw new HttpProblem(404, { detail: `There is no trigger ${triggerSlug}.` });
    const body = parseRequest(triggerCheckRequest, req.body, 'The trigger request is invalid.');
    const events = await triggerEvents(db, triggerSlug, body.triggerFields, body.limit, new Date());
    await recordPoll(db, {
      triggerIdentity: body.trigger_identity,
      triggerSlug,
      triggerFields: body.triggerFields,
      userId: res.locals.userId as string | undefined,
    });
    const data = res.locals.dropMetaId
      ? events.map(({ meta, ...ingredients }) => ({ ...ingredients, meta: { timestamp: meta.timestamp } }))
      : events;
    res.json({ data });
  });

  router.delete(
    '/triggers/:triggerSlug/trigger_identity/:triggerIdentity',
    serviceOrUser,
    async (req, res) => {
      const { triggerSlug } = pathParams(req);
      const { triggerIdentity } = parseRequest(
        identityParams,
        pathParams(req),
        'The trigger identity is invalid.',
      );
      if (!(await forgetTriggerIdentity(db, triggerSlug, triggerIdentity))) {
        throw new HttpProblem(404, {
          detail: `Trigger identity ${triggerIdentity} of ${triggerSlug} is not known.`,
        });
      }
      res.json({});
    },
  );

  for (const kind of ['triggers', 'actions'] as const) {
    router.post(`/${kind}/:stepSlug/fields/:fieldSlug/options`, serviceOrUser, (req, res) => {
      const { stepSlug, fieldSlug } = pathParams(req);
      const options = FIELD_OPTIONS[kind][stepSlug]?.[fieldSlug];
      if (options === undefined) {
        throw new HttpProblem(404, {
          detail: `${stepSlug} has no field ${fieldSlug} with options.`,
        });
      }
      res.json({ data: options });
    });
  }

  router.post('/triggers/:triggerSlug/fields/:fieldSlug/validate', serviceOrUser, (req, res) => {
    const { value } = parseRequest(validateFieldRequest, req.body, 'The validation request is invalid.');
    const { triggerSlug, fieldSlug } = pathParams(req);
    const result = validateFieldValue('triggers', triggerSlug, fieldSlug, value);
    if (result === undefined) {
      throw new HttpProblem(404, {
        detail: `${triggerSlug} has no field ${fieldSlug} to validate.`,
      });
    }
    res.json({ data: result });
  });

  router.post('/triggers/:triggerSlug/fields/validate', serviceOrUser, (req, res) => {
    const { triggerSlug } = pathParams(req);
    if (!isTrigger(triggerSlug))
      throw new HttpProblem(404, { detail: `There is no trigger ${triggerSlug}.` });
    const { values } = parseRequest(validateFieldsRequest, req.body, 'The validation request is invalid.');
    const data: Record<string, { valid: boolean; message?: string }> = {};
    for (const [fieldSlug, value] of Object.entries(values)) {
      data[fieldSlug] = validateFieldValue('triggers', triggerSlug, fieldSlug, value) ?? {
        valid: false,
        message: `${triggerSlug} has no field ${fieldSlug}`,
      };
    }
    res.json({ data });
  });

  router.post('/actions/:actionSlug', serviceOrUser, async (req, res) => {
    const body = parseRequest(actionRunRequest, req.body, 'The action request is invalid.');
    const data = await runAction(db, {
      actionSlug: pathParams(req).actionSlug,
      body,
      requestId: req.id,
      userId: res.locals.userId as string | undefined,
    });
    res.json({ data });
  });

  return router;
}
