import { Router } from 'express';
import { parseRequest } from '@ittd/platform';
import type { AppletsDatabase } from '../data/database';
import { registerPartnerService } from '../domain/partner-services';
import { createUserWithToken, issueApiToken } from '../domain/users';
import { createUserBody, registerPartnerServiceBody } from './request-schemas';

/**
 * Operator routes, relative to `/admin`: create users (answering their first API token once), issue more
 * tokens, register partner services. The router in front must check the admin token.
 *
 * @example
 *   app.use('/admin', requireBearerToken(config.ADMIN_TOKEN), adminRoutes(db));
 */
export function adminRoutes(db: AppletsDatabase): Router {
  const router = Router();

  router.post('/users', async (req, res) => {
    const { name } = parseRequest(createUserBody, req.body, 'The user is invalid.');
    res.status(201).json(await createUserWithToken(db, name));
  });

  router.post('/users/:id/tokens', async (req, res) => {
    res.status(201).json({ token: await issueApiToken(db, req.params.id) });
  });

  router.post('/services', async (req, res) => {
    const input = parseRequest(registerPartnerServiceBody, req.body, 'The partner service is invalid.');
    res.status(201).json(await registerPartnerService(db, input));
  });

  return router;
}
