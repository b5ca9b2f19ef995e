import { Router } from 'express';
import { HttpProblem, parseRequest, type EventMetrics } from '@ittd/platform';
import { slug } from '@ittd/service-api';
import type { AppletsDatabase } from '../data/database';
import { issueApiToken, revokeAllUserTokens } from '../domain/api-tokens';
import type { PartnerSecrets } from '../domain/partner-secrets';
import { changePartnerService, registerPartnerService } from '../domain/partner-services';
import { createUserWithToken, updateUser } from '../domain/users';
import {
  changePartnerServiceBody,
  createTokenBody,
  createUserBody,
  registerPartnerServiceBody,
  updateUserBody,
} from './request-schemas';

/**
 * Operator routes, relative to `/admin`: create users (answering their first API token once) and change
 * their time zone, issue more tokens or revoke all of a user's, register partner services and change them
 * (name, base URL, key; keys stored sealed, URLs checked against the partner URL policy).
 * Changes publish their events with the request's `X-Request-ID`. The router in front must check the
 * admin token.
 *
 * @example
 *   app.use('/admin', requireBearerToken(config.ADMIN_TOKEN), adminRoutes(db, secrets, eventMetrics(registry)));
 */
export function adminRoutes(db: AppletsDatabase, secrets: PartnerSecrets, metrics?: EventMetrics): Router {
  const router = Router();

  router.post('/users', async (req, res) => {
    const input = parseRequest(createUserBody, req.body, 'The user is invalid.');
    res.status(201).json(await createUserWithToken(db, input));
  });

  router.patch('/users/:id', async (req, res) => {
    const input = parseRequest(updateUserBody, req.body, 'The update is invalid.');
    res.json(await updateUser(db, req.params.id, input, { requestId: req.id, metrics }));
  });

  router.post('/users/:id/tokens', async (req, res) => {
    const input = parseRequest(createTokenBody, req.body ?? {}, 'The token is invalid.');
    res.status(201).json(await issueApiToken(db, req.params.id, input));
  });

  router.delete('/users/:id/tokens', async (req, res) => {
    res.json({ revoked: await revokeAllUserTokens(db, req.params.id) });
  });

  router.post('/services', async (req, res) => {
    const input = parseRequest(registerPartnerServiceBody, req.body, 'The partner service is invalid.');
    res.status(201).json(await registerPartnerService(db, secrets, input, { requestId: req.id, metrics }));
  });

  router.patch('/services/:slug', async (req, res) => {
    const serviceSlug = req.params.slug;
    // Not a slug: cannot be registered (and a NUL would be refused by Postgres).
    if (!slug.safeParse(serviceSlug).success) {
      throw new HttpProblem(404, {
        detail: `partner service ${JSON.stringify(serviceSlug)} is not registered`,
      });
    }
    const input = parseRequest(changePartnerServiceBody, req.body, 'The change is invalid.');
    res.json(await changePartnerService(db, secrets, serviceSlug, input, { requestId: req.id, metrics }));
  });

  return router;
}
