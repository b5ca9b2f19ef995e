import type { Express } from 'express';
import { requireBearerToken } from '@ittd/platform';
import type { TriggerPollerDatabase } from '../data/database';
import type { PollJobs } from '../jobs/poll-jobs';
import { adminRoutes } from './admin-routes';
import { notificationRoutes } from './notification-routes';

/** What the trigger poller's API needs to serve requests. */
export interface TriggerPollerApiDependencies {
  db: TriggerPollerDatabase;
  jobs: PollJobs;
  adminToken: string;
}

/**
 * Mounts the whole API on a platform app: `/v1/notifications` for partners (service key) and `/admin/*` for
 * operators (ADMIN_TOKEN). Pass it as `routes` to the platform's `createHttpService`.
 *
 * @example
 *   createHttpService({ ...ctx, routes: (app) => mountTriggerPollerApi(app, { db, jobs, adminToken }) });
 */
export function mountTriggerPollerApi(app: Express, deps: TriggerPollerApiDependencies): void {
  app.use('/v1', notificationRoutes(deps.db, deps.jobs));
  app.use('/admin', requireBearerToken(deps.adminToken), adminRoutes(deps.db, deps.jobs));
}
