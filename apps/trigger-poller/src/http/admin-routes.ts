import { Router } from 'express';
import { HttpProblem, OutboundUrlError, parseRequest, type OutboundUrlPolicy } from '@ittd/platform';
import { countEnabledApplets, lockIdentities } from '../data/applet-trigger-repository';
import type { TriggerPollerDatabase } from '../data/database';
import { listRecentEvents } from '../data/event-repository';
import { findPartner, listPartners, putPartner } from '../data/partner-repository';
import { findSubscription, removeSubscription, upsertSubscription } from '../data/subscription-repository';
import { enqueueIdentityDeletes, type PollJobs } from '../jobs/poll-jobs';
import type { PartnerSecurity } from '@ittd/platform';
import {
  listEventsQuery,
  partnerPath,
  putPartnerBody,
  putSubscriptionBody,
  subscriptionPath,
} from './request-schemas';

/**
 * A partner URL an operator PUTs: 422 naming `api_base_url` when it breaks the partner URL policy (http
 * outside local, a loopback, link-local or private address). A name that does not resolve yet is accepted:
 * every call checks the URL again.
 */
async function checkPartnerUrlToStore(policy: OutboundUrlPolicy, url: string): Promise<void> {
  try {
    await policy.check(url);
  } catch (error) {
    if (!(error instanceof OutboundUrlError)) throw error;
    if (error.kind === 'unresolvable') return;
    throw new HttpProblem(422, {
      detail: 'The partner URL is not allowed.',
      errors: [{ name: 'api_base_url', reason: error.message }],
    });
  }
}

function notFound(triggerIdentity: string): HttpProblem {
  return new HttpProblem(404, { detail: `no subscription for trigger identity ${triggerIdentity}` });
}

/**
 * Operator routes, relative to `/admin`. Partners: create or replace one (201 created, 200 replaced; the
 * next `partner-service.changed` of applets replaces it again), list them, read one. Subscriptions: create or
 * replace one referencing a known partner (422 naming `service_slug` otherwise), read it (with its polling
 * state), delete it (with its events; 409 while enabled applets use it; the partner gets its DELETE), and list
 * its latest events. Answers never hold a service key; a PUT key is stored sealed under SECRETS_KEYS and its
 * URL checked against the partner URL policy (422 naming `api_base_url`). The router in front must check the admin token.
 *
 * @example
 *   app.use('/admin', requireBearerToken(config.ADMIN_TOKEN), adminRoutes(db, pollJobs(ctx), partnerSecurity(ctx)));
 */
export function adminRoutes(db: TriggerPollerDatabase, jobs: PollJobs, security: PartnerSecurity): Router {
  const router = Router();

  router.put('/partners/:slug', async (req, res) => {
    const { slug } = parseRequest(partnerPath, req.params, 'The partner slug is invalid.');
    const input = parseRequest(putPartnerBody, req.body, 'The partner is invalid.');
    await checkPartnerUrlToStore(security.urlPolicy, input.api_base_url);
    const { partner, created } = await putPartner(
      db,
      { ...input, slug, name: input.name ?? slug },
      security.keyring,
    );
    res.status(created ? 201 : 200).json(partner);
  });

  router.get('/partners', async (_req, res) => {
    res.json({ data: await listPartners(db) });
  });

  router.get('/partners/:slug', async (req, res) => {
    const { slug } = parseRequest(partnerPath, req.params, 'The partner slug is invalid.');
    const partner = await findPartner(db, slug);
    if (!partner) throw new HttpProblem(404, { detail: `no partner ${slug}` });
    res.json(partner);
  });

  router.put('/subscriptions/:triggerIdentity', async (req, res) => {
    const { triggerIdentity } = parseRequest(
      subscriptionPath,
      req.params,
      'The trigger identity is invalid.',
    );
    const input = parseRequest(putSubscriptionBody, req.body, 'The subscription is invalid.');
    if (!(await findPartner(db, input.service_slug))) {
      throw new HttpProblem(422, {
        detail: 'The subscription names a partner this service does not know.',
        errors: [
          {
            name: 'service_slug',
            reason: `no partner ${input.service_slug}: PUT /admin/partners/${input.service_slug} first (or register it in applets)`,
          },
        ],
      });
    }
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
    const outcome = await db.transaction().execute(async (trx) => {
      await lockIdentities(trx, [triggerIdentity]);
      const enabled = await countEnabledApplets(trx, triggerIdentity);
      if (enabled > 0) return { enabled };
      return { removed: await removeSubscription(trx, triggerIdentity, { requestId: req.id }) };
    });
    if ('enabled' in outcome) {
      throw new HttpProblem(409, {
        detail: `${outcome.enabled} enabled applet(s) use trigger identity ${triggerIdentity}; disable or delete them in applets instead`,
      });
    }
    if (!outcome.removed) throw notFound(triggerIdentity);
    await enqueueIdentityDeletes(jobs, [triggerIdentity]);
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
