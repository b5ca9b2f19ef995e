import type { Express } from 'express';
import { requireBearerToken, type EventMetrics } from '@ittd/platform';
import type { Redis } from 'ioredis';
import type { AppletsDatabase } from '../data/database';
import { adminRoutes } from './admin-routes';
import { appletRoutes } from './applet-routes';
import { rateLimitMiddleware } from './rate-limit-middleware';
import { userAuthMiddleware } from './user-auth-middleware';

/** What the applets API needs to serve requests. */
export interface AppletsApiDependencies {
  db: AppletsDatabase;
  redis: Redis;
  adminToken: string;
  rateLimitPerMinute: number;
  /** Prefix of this service's Redis keys (`applets:`); tests pass a unique one. */
  redisKeyPrefix: string;
  /** The service's event counters (`eventMetrics(ctx.metrics)`), for `events_published_total`. */
  eventMetrics?: EventMetrics;
}

/**
 * Mounts the whole API on a platform app: `/v1/*` for users (bearer API token, rate limited per user) and
 * `/admin/*` for operators (ADMIN_TOKEN). Pass it as `routes` to the platform's `createHttpService`.
 *
 * @example
 *   createHttpService({ ...ctx, routes: (app) => mountAppletsApi(app, { db, redis, adminToken, ... }) });
 */
export function mountAppletsApi(app: Express, deps: AppletsApiDependencies): void {
  app.use(
    '/v1',
    userAuthMiddleware(deps.db),
    rateLimitMiddleware({
      redis: deps.redis,
      limitPerMinute: deps.rateLimitPerMinute,
      keyPrefix: deps.redisKeyPrefix,
    }),
    appletRoutes(deps.db, deps.eventMetrics),
  );
  app.use('/admin', requireBearerToken(deps.adminToken), adminRoutes(deps.db, deps.eventMetrics));
}
