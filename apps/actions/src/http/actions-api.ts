import { requireBearerToken } from '@ittd/platform';
import type { Express } from 'express';
import type { ActionsDatabase } from '../data/database';
import { adminRoutes } from './admin-routes';

/**
 * Mounts the actions API on a platform app: `/admin/*` for operators (ADMIN_TOKEN). The user-facing
 * activity is served by applets from `action-run.finished`. Pass it as `routes` to `createHttpService`.
 *
 * @example
 *   createHttpService({ ...ctx, routes: (app) => mountActionsApi(app, { db, adminToken }) });
 */
export function mountActionsApi(app: Express, deps: { db: ActionsDatabase; adminToken: string }): void {
  app.use('/admin', requireBearerToken(deps.adminToken), adminRoutes(deps.db));
}
