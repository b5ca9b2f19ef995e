import { Router } from 'express';
import { HttpProblem, parseRequest } from '@ittd/platform';
import type { TriggerPollerDatabase } from '../data/database';
import { listRecentEvents } from '../data/event-repository';
import { deleteSubscription, findSubscription, upsertSubscription } from '../data/subscription-repository';
import { listEventsQuery, putSubscriptionBody, subscriptionPath } from './request-schemas';

function notFound(triggerIdentity: string): HttpProblem {
  return new HttpProblem(404, { detail: `no subscription for trigger identity ${triggerIdentity}` });
}

/**
 * Operator routes, relative to `/admin`: create or replace a trigger subscription (201 created, 200
 * replaced), read it, delete it (with its events), and list its latest events. Answers never hold the
 * service key. The router in front must check the admin token.
 *
 * @example
 *   app.use('/admin', requireBearerToken(config.ADMIN_TOKEN), adminRoutes(db));
 */
export function adminRoutes(db: TriggerPollerDatabase): Router {
  const router = Router();

  router.put('/subscriptions/:triggerIdentity', async (req, res) => {
    const { triggerIdentity } = parseRequest(
      subscriptionPath,
      req.params,
      'The trigger identity is invalid.',
    );
    const input = parseRequest(putSubscriptionBody, req.body, 'The subscription is invalid.');
    const { subscription, created } = await upsertSubscription(db, {
      ...input,
      trigger_identity: triggerIdentity,
    });
    res.status(created ? 201 : 200).json(subscription);
  });

  router.get('/subscriptions/:triggerIdentity', async (req, res) => {
    const { triggerIdentity } = parseRequest(
      subscriptionPath,
      req.params,
      'The trigger identity is invalid.',
    );
    const subscription = await findSubscription(db, triggerIdentity);
    if (!subscription) throw notFound(triggerIdentity);
    res.json(subscription);
  });

  router.delete('/subscriptions/:triggerIdentity', async (req, res) => {
    const { triggerIdentity } = parseRequest(
      subscriptionPath,
      req.params,
      'The trigger identity is invalid.',
    );
    if (!(await deleteSubscription(db, triggerIdentity))) throw notFound(triggerIdentity);
    res.status(204).end();
  });

  router.get('/subscriptions/:triggerIdentity/events', async (req, res) => {
    const { triggerIdentity } = parseRequest(
      subscriptionPath,
      req.params,
      'The trigger identity is invalid.',
    );
    const { limit } = parseRequest(listEventsQuery, req.query, 'The query is invalid.');
    if (!(await findSubscription(db, triggerIdentity))) throw notFound(triggerIdentity);
    res.json({ data: await listRecentEvents(db, triggerIdentity, limit) });
  });

  return router;
}
