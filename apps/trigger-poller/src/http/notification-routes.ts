import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Redis } from 'ioredis';
import { HttpProblem, parseRequest, preAuthRateLimit, releasePreAuthAttempt } from '@ittd/platform';
import type { NotificationTargetCache } from '../data/notification-target-cache';
import { hashServiceKey } from '../data/service-key-hash';
import { enqueuePolls, type PollJobs } from '../jobs/poll-jobs';
import { notificationBody } from './request-schemas';

/** What {@link notificationRoutes} needs. */
export interface NotificationRoutesDependencies {
  /** Partner keys and subscriptions, remembered for a while after Postgres confirmed them. */
  targets: NotificationTargetCache;
  jobs: PollJobs;
  redis: Redis;
  /** Prefix of the service's Redis keys (pre-authentication counters under `<prefix>preauth:`). */
  redisKeyPrefix: string;
  /** Notifications with an unknown or missing key one client address may send per minute. */
  preAuthLimitPerMinute: number;
}

/** The partner's key: `IFTTT-Service-Key`, or `IFTTT-Channel-Key` as older partners send it. */
function readServiceKey(req: Request): string | undefined {
  const key = req.get('ifttt-service-key') ?? req.get('ifttt-channel-key');
  return key === undefined || key === '' ? undefined : key;
}

/** Where the request's key digest is kept between the middlewares (`res.locals`). */
const KEY_DIGEST = Symbol('serviceKeySha256');

function keyDigestOf(res: Response): string | undefined {
  return (res.locals as Record<symbol, string | undefined>)[KEY_DIGEST];
}

/** Hashes the request's service key once, for the limiter's `skip` and the handler. */
const digestServiceKey: RequestHandler = (req, res, next) => {
  const serviceKey = readServiceKey(req);
  (res.locals as Record<symbol, string | undefined>)[KEY_DIGEST] =
    serviceKey === undefined ? undefined : hashServiceKey(serviceKey);
  next();
};

/**
 * The partner's realtime endpoint, relative to `/v1`: `POST /notifications` with
 * `{ data: [{trigger_identity} | {user_id}] }` (up to 1000). The `IFTTT-Service-Key` must be the key of a
 * partner (matched by digest in the partners table; 401 with `WWW-Authenticate: IFTTT-Service-Key` otherwise,
 * checked before the body). Requests whose key is not among those confirmed in the last
 * NOTIFICATION_CACHE_TTL_MS are rate limited per client address before the lookup (the platform's
 * `preAuthRateLimit`; a key that proves valid gives its unit back, so only unknown keys count and over the
 * limit no lookup is made). Entries match only that partner's subscriptions; unknown identities and users are
 * ignored. Each matched identity gets a `poll-trigger` job carrying the request's `X-Request-ID` (to the
 * events the poll publishes) unless one already waits (unique key), whatever the subscription's backoff (the
 * partner says it has news); the jobs are in Redis before the answer. Answers 202 `{ matched, enqueued }`.
 *
 * A partner notifying identities it notified in the last NOTIFICATION_CACHE_TTL_MS costs no Postgres query
 * and one Redis call ({@link NotificationTargetCache} says what that costs in freshness).
 *
 * @example
 *   app.use('/v1', notificationRoutes({ targets, jobs: pollJobs(ctx), redis, redisKeyPrefix, preAuthLimitPerMinute: 60 }));
 */
export function notificationRoutes(deps: NotificationRoutesDependencies): Router {
  const router = Router();
  const { targets, jobs } = deps;

  router.post(
    '/notifications',
    digestServiceKey,
    preAuthRateLimit({
      redis: deps.redis,
      limit: deps.preAuthLimitPerMinute,
      keyPrefix: deps.redisKeyPrefix,
      skip: (_req, res) => {
        const keySha256 = keyDigestOf(res);
        return keySha256 !== undefined && targets.knowsServiceKey(keySha256);
      },
    }),
    async (req, res) => {
      const keySha256 = keyDigestOf(res);
      if (keySha256 === undefined || !(await targets.isKnownServiceKey(keySha256))) {
        throw new HttpProblem(401, {
          detail:
            keySha256 === undefined
              ? 'The IFTTT-Service-Key header is required.'
              : 'The IFTTT-Service-Key is not the key of any partner.',
          // RFC 9110 asks every 401 for a challenge; this one names the header the partner must send.
          headers: { 'WWW-Authenticate': 'IFTTT-Service-Key realm="ittd"' },
        });
      }
      await releasePreAuthAttempt(res);
      const { data } = parseRequest(notificationBody, req.body, 'The notification is invalid.');
      const triggerIdentities = await targets.findNotifiedTriggerIdentities(keySha256, {
        triggerIdentities: data.flatMap((entry) =>
          entry.trigger_identity === undefined ? [] : [entry.trigger_identity],
        ),
        userIds: data.flatMap((entry) => (entry.user_id === undefined ? [] : [entry.user_id])),
      });
      const enqueued = await enqueuePolls(jobs, triggerIdentities, { requestId: req.id });
      res.status(202).json({ matched: triggerIdentities.length, enqueued });
    },
  );

  return router;
}
