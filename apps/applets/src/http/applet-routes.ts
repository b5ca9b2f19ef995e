import { Router } from 'express';
import { parseRequest, type EventMetrics } from '@ittd/platform';
import type { AppletsDatabase } from '../data/database';
import { listActivity } from '../domain/activity';
import { createApplet, deleteApplet, getApplet, listApplets, updateApplet } from '../domain/applets';
import { issueApiToken, listUserTokens, revokeUserToken } from '../domain/api-tokens';
import { listRegisteredServices } from '../domain/partner-services';
import {
  createAppletBody,
  createTokenBody,
  listActivityQuery,
  listAppletsQuery,
  updateAppletBody,
} from './request-schemas';
import { authenticatedUserId } from './user-auth-middleware';

/**
 * The user API, relative to its mount point (`/v1`): applets CRUD, each applet's activity, the partner
 * service list and the user's own API tokens (list, create, revoke). Routes only parse the request and call the domain (changes publish `applet.changed` with
 * the request's `X-Request-ID`); the router in front must authenticate (`userAuthMiddleware`).
 *
 * @example
 *   app.use('/v1', userAuthMiddleware(db), appletRoutes(db, eventMetrics(registry)));
 */
export function appletRoutes(db: AppletsDatabase, metrics?: EventMetrics): Router {
  const router = Router();

  router.get('/services', async (_req, res) => {
    res.json({ data: await listRegisteredServices(db) });
  });

  router.get('/tokens', async (_req, res) => {
    res.json({ data: await listUserTokens(db, authenticatedUserId(res)) });
  });

  router.post('/tokens', async (req, res) => {
    const input = parseRequest(createTokenBody, req.body ?? {}, 'The token is invalid.');
    const issued = await issueApiToken(db, authenticatedUserId(res), input);
    res.status(201).location(`${req.baseUrl}/tokens/${issued.id}`).json(issued);
  });

  router.delete('/tokens/:id', async (req, res) => {
    await revokeUserToken(db, authenticatedUserId(res), req.params.id);
    res.status(204).end();
  });

  router.post('/applets', async (req, res) => {
    const input = parseRequest(createAppletBody, req.body, 'The applet is invalid.');
    const applet = await createApplet(db, authenticatedUserId(res), input, {
      requestId: req.id,
      metrics,
    });
    res.status(201).location(`${req.baseUrl}/applets/${applet.id}`).json(applet);
  });

  router.get('/applets', async (req, res) => {
    const query = parseRequest(listAppletsQuery, req.query, 'The query is invalid.');
    res.json(await listApplets(db, authenticatedUserId(res), query));
  });

  router.get('/applets/:id', async (req, res) => {
    res.json(await getApplet(db, authenticatedUserId(res), req.params.id));
  });

  router.get('/applets/:id/activity', async (req, res) => {
    const query = parseRequest(listActivityQuery, req.query, 'The query is invalid.');
    res.json(await listActivity(db, authenticatedUserId(res), req.params.id, query));
  });

  router.patch('/applets/:id', async (req, res) => {
    const input = parseRequest(updateAppletBody, req.body, 'The update is invalid.');
    res.json(
      await updateApplet(db, authenticatedUserId(res), req.params.id, input, { requestId: req.id, metrics }),
    );
  });

  router.delete('/applets/:id', async (req, res) => {
    await deleteApplet(db, authenticatedUserId(res), req.params.id, { requestId: req.id, metrics });
    res.status(204).end();
  });

  return router;
}
