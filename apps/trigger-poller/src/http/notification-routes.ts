import { Router, type Request } from 'express';
import { HttpProblem, parseRequest, releasePreAuthAttempt } from '@ittd/platform';
import type { TriggerPollerDatabase } from '../data/database';
import { hashServiceKey } from '../data/service-key-hash';
import { isKnownServiceKey } from '../data/partner-repository';
import { findNotifiedTriggerIdentities } from '../data/subscription-repository';
import { enqueuePolls, type PollJobs } from '../jobs/poll-jobs';
import { notificationBody } from './request-schemas';

/** The partner's key: `IFTTT-Service-Key`, or `IFTTT-Channel-Key` as older partners send it. */
function readServiceKey(req: Request): string | undefined {
  const key = req.get('ifttt-service-key') ?? req.get('ifttt-channel-key');
  return key === undefined || key === '' ? undefined : key;
}

/**
 * The partner's realtime endpoint, relative to `/v1`: `POST /notifications` with
 * `{ data: [{trigger_identity} | {user_id}] }` (up to 1000). The `IFTTT-Service-Key` must be the key of a
 * partner (matched by digest in the partners table; 401 with `WWW-Authenticate: IFTTT-Service-Key` otherwise,
 * checked before the body; mount the platform's `preAuthRateLimit` in front: a known key gives its unit of
 * the client address's budget back, so only unknown keys count and over the limit no lookup is made); entries match only that partner's subscriptions; unknown identities and users
 * are ignored. Each matched identity gets a `poll-trigger` job carrying the request's `X-Request-ID` (to the
 * events the poll publishes) unless one already waits (unique key), whatever the subscription's backoff (the
 * partner says it has news). Answers 202 `{ matched, enqueued }`.
 *
 * @example
 *   app.use('/v1', notificationRoutes(db, pollJobs(ctx)));
 */
export function notificationRoutes(db: TriggerPollerDatabase, jobs: PollJobs): Router {
  const router = Router();

  router.post('/notifications', async (req, res) => {
    const serviceKey = readServiceKey(req);
    const keySha256 = serviceKey === undefined ? undefined : hashServiceKey(serviceKey);
    if (keySha256 === undefined || !(await isKnownServiceKey(db, keySha256))) {
      throw new HttpProblem(401, {
        detail:
          serviceKey === undefined
            ? 'The IFTTT-Service-Key header is required.'
            : 'The IFTTT-Service-Key is not the key of any partner.',
        // RFC 9110 asks every 401 for a challenge; this one names the header the partner must send.
        headers: { 'WWW-Authenticate': 'IFTTT-Service-Key realm="ittd"' },
      });
    }
    await releasePreAuthAttempt(res);
    const { data } = parseRequest(notificationBody, req.body, 'The notification is invalid.');
    const triggerIdentities = await findNotifiedTriggerIdentities(db, keySha256, {
      triggerIdentities: data.flatMap((entry) =>
        entry.trigger_identity === undefined ? [] : [entry.trigger_identity],
      ),
      userIds: data.flatMap((entry) => (entry.user_id === undefined ? [] : [entry.user_id])),
    });
    const enqueued = await enqueuePolls(jobs, triggerIdentities, { requestId: req.id });
    res.status(202).json({ matched: triggerIdentities.length, enqueued });
  });

  return router;
}
