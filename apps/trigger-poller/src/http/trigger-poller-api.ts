import type { Express } from 'express';
import { requireBearerToken } from '@ittd/platform';
import type { Redis } from 'ioredis';
import type { TriggerPollerDatabase } from '../data/database';
import { NotificationTargetCache } from '../data/notification-target-cache';
import type { PollJobs } from '../jobs/poll-jobs';
import type { PartnerSecurity } from '@ittd/platform';
import { adminRoutes } from './admin-routes';
import { notificationRoutes } from './notification-routes';

/** What the trigger poller's API needs to serve requests. */
export interface TriggerPollerApiDependencies {
  db: TriggerPollerDatabase;
  jobs: PollJobs;
  adminToken: string;
  security: PartnerSecurity;
  redis: Redis;
  /** Prefix of the service's Redis keys (pre-authentication counters under `<prefix>preauth:`). */
  redisKeyPrefix: string;
  /** Notifications with an unknown or missing key one client address may send per minute. */
  preAuthLimitPerMinute: number;
  /** How long a partner key or trigger identity confirmed by Postgres is trusted by notifications, ms (0: never). */
  notificationCacheTtlMs: number;
}

/**
 * Mounts the whole API on a platform app: `/v1/notifications` for partners (service key; requests without
 * a known key are rate limited per client address before the key lookup) and `/admin/*` for operators
 * (ADMIN_TOKEN). Pass it as `routes` to the platform's `createHttpService`.
 *
 * @example
 *   createHttpService({ ...ctx, routes: (app) => mountTriggerPollerApi(app, { db, jobs, adminToken }) });
 */
export function mountTriggerPollerApi(app: Express, deps: TriggerPollerApiDependencies): void {
  app.use(
    '/v1',
    notificationRoutes({
      targets: new NotificationTargetCache(deps.db, { ttlMs: deps.notificationCacheTtlMs }),
      jobs: deps.jobs,
      redis: deps.redis,
      redisKeyPrefix: deps.redisKeyPrefix,
      preAuthLimitPerMinute: deps.preAuthLimitPerMinute,
    }),
  );
  app.use('/admin', requireBearerToken(deps.adminToken), adminRoutes(deps.db, deps.jobs, deps.security));
}
