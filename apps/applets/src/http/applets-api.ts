import type { Express } from 'express';
import { preAuthRateLimit, requireBearerToken, type EventMetrics } from '@ittd/platform';
import type { Redis } from 'ioredis';
import type { AppletsDatabase } from '../data/database';
import type { PartnerSecrets } from '../domain/partner-secrets';
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
  /** Requests without a valid token one client address may make per minute (checked before any lookup). */
  preAuthLimitPerMinute: number;
  /** Keys sealing partner keys (stored and in events) and the partner URL policy. */
  secrets: PartnerSecrets;
  /** Prefix of this service's Redis keys (`applets:`); tests pass a unique one. */
  redisKeyPrefix: string;
  /** The service's event counters (`eventMetrics(ctx.metrics)`), for `events_published_total`. */
  eventMetrics?: EventMetrics;
}

/**
 * Mounts the whole API on a platform app: `/v1/*` for users (requests without a valid token rate limited
 * per client address before the token lookup, then the bearer API token, then the per-user rate limit)
 * and `/admin/*` for operators (ADMIN_TOKEN). Pass it as `routes` to the platform's `createHttpService`.
 *
 * @example
 *   createHttpService({ ...ctx, routes: (app) => mountAppletsApi(app, { db, redis, adminToken, ... }) });
 */
export function mountAppletsApi(app: Express, deps: AppletsApiDependencies): void {
  app.use(
    '/v1',
    preAuthRateLimit({
      redis: deps.redis,
      limit: deps.preAuthLimitPerMinute,
      keyPrefix: deps.redisKeyPrefix,
    }),
    userAuthMiddleware(deps.db),
    rateLimitMiddleware({
      redis: deps.redis,
      limitPerMinute: deps.rateLimitPerMinute,
      keyPrefix: deps.redisKeyPrefix,
    }),
    appletRoutes(deps.db, deps.eventMetrics),
  );
  app.use(
    '/admin',
    requireBearerToken(deps.adminToken),
    adminRoutes(deps.db, deps.secrets, deps.eventMetrics),
  );
}
