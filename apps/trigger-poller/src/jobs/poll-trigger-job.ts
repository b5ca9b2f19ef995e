import { defineJob, PermanentJobError, text, type JobDefinition } from '@ittd/platform';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { TriggerPollerDatabase } from '../data/database';
import { insertNewEvents } from '../data/event-repository';
import { findPollTarget, markPolled } from '../data/subscription-repository';
import {
  fetchTriggerEvents,
  PartnerCallError,
  type TriggerCheckResult,
} from '../partner/partner-trigger-client';

/** The queue of trigger polls (one queue: the platform's rate limits are per queue, set on workers). */
export const POLL_QUEUE = 'trigger-polls';

/**
 * Payload of a `poll-trigger` job: its string follows the platform string rule (`text()`), and it is strict,
 * so no other key rides along: the queue writes the payload it was given with `JSON.stringify`, and an extra
 * key of any depth or size would go with it (or throw a `RangeError` at enqueue, 100,000 levels deep).
 */
export const pollTriggerPayload = z.strictObject({ trigger_identity: text().min(1).max(200) });

/**
 * Attempts per poll. Few, because the schedule enqueues a fresh poll every POLL_INTERVAL_SECONDS anyway: a
 * retry ten minutes late is worth less than the next regular poll.
 */
export const POLL_MAX_ATTEMPTS = 5;

/** Upper bound of a retry delay. */
const POLL_RETRY_MAX_MS = 60_000;

/** What polling needs besides the trigger identity. */
export interface PollDependencies {
  db: TriggerPollerDatabase;
  logger: Logger;
  /** `limit` sent to the partner. */
  eventLimit: number;
  timeoutMs: number;
  /** Most bytes of a partner's answer read (PARTNER_MAX_ANSWER_BYTES). */
  maxAnswerBytes: number;
}

/**
 * What one poll did: `found` is false when the subscription was deleted meanwhile (nothing to do);
 * `received` events the partner answered, `recorded` of them new, `refused` of them not storable (logged).
 */
export interface PollOutcome {
  found: boolean;
  received: number;
  recorded: number;
  refused: number;
}

/**
 * Polls one trigger identity: calls the partner's trigger endpoint, records the events not seen yet, and
 * sets `last_polled_at`. An event that cannot be stored (a NUL or lone surrogate in a string or key, more
 * than 64 levels of objects and arrays, no `meta.id`, ...) is refused and logged (warn, with the reasons)
 * while the others are recorded, so it never fails the job nor holds back the events after it. Idempotent
 * (events are unique per identity), so a retried or duplicated job is harmless. Throws a `PartnerCallError`
 * when the partner fails (or answers more than `maxAnswerBytes`), so the queue retries; when the partner
 * rejected the service key (401/403), throws a `PermanentJobError` (the `PartnerCallError` as its cause)
 * instead, so the job is dead-lettered at once: no retry can pass until the subscription's key is updated.
 *
 * @example
 *   const outcome = await pollTrigger(deps, 'ti_1', { signal, requestId: 'poll-42-1' });
 *   // { found: true, received: 3, recorded: 1, refused: 0 }
 */
export async function pollTrigger(
  deps: PollDependencies,
  triggerIdentity: string,
  call: { signal: AbortSignal; requestId: string },
): Promise<PollOutcome> {
  const target = await findPollTarget(deps.db, triggerIdentity);
  if (!target) return { found: false, received: 0, recorded: 0, refused: 0 };
  let checked: TriggerCheckResult;
  try {
    checked = await fetchTriggerEvents({
      apiBaseUrl: target.api_base_url,
      serviceKey: target.service_key,
      serviceSlug: target.service_slug,
      triggerSlug: target.trigger_slug,
      triggerIdentity,
      triggerFields: target.trigger_fields,
      userTimezone: target.user_timezone,
      limit: deps.eventLimit,
      timeoutMs: deps.timeoutMs,
      maxAnswerBytes: deps.maxAnswerBytes,
      signal: call.signal,
      requestId: call.requestId,
    });
  } catch (error) {
    if (error instanceof PartnerCallError && error.serviceKeyRejected) {
      throw new PermanentJobError(error.message, { cause: error });
    }
    throw error;
  }
  const { events, refused } = checked;
  if (refused.length > 0) {
    deps.logger.warn(
      { trigger_identity: triggerIdentity, service: target.service_slug, refused },
      'partner events refused: they cannot be stored',
    );
  }
  const recorded = await deps.db.transaction().execute(async (tx) => {
    const newIds = await insertNewEvents(tx, triggerIdentity, events);
    await markPolled(tx, triggerIdentity);
    return newIds.length;
  });
  return { found: true, received: events.length + refused.length, recorded, refused: refused.length };
}

/**
 * The `poll-trigger` job: {@link pollTrigger} on the {@link POLL_QUEUE}, {@link POLL_MAX_ATTEMPTS} attempts,
 * exponential backoff from `retryBaseMs` up to 60 s. Producers (web, schedule) need the definition too, to
 * enqueue; only the worker runs the handler.
 *
 * A partner that rejects the service key (401/403) dead-letters the job at once instead of spending its
 * attempts (see {@link pollTrigger}); the schedule polls the subscription again at its next due time.
 *
 * @example
 *   const job = definePollTriggerJob({ db, logger, eventLimit: 50, timeoutMs: 10_000, maxAnswerBytes: 4_194_304 }, 2000);
 *   await queue.enqueue(job, { trigger_identity: 'ti_1' }, { uniqueKey: 'ti_1' });
 */
export function definePollTriggerJob(
  deps: PollDependencies,
  retryBaseMs: number,
): JobDefinition<typeof pollTriggerPayload> {
  return defineJob(
    'poll-trigger',
    pollTriggerPayload,
    async ({ trigger_identity }, job) => {
      const outcome = await pollTrigger(deps, trigger_identity, {
        signal: job.signal,
        requestId: `poll-${job.id}-${job.attempt}`,
      });
      deps.logger.debug({ trigger_identity, jobId: job.id, ...outcome }, 'trigger polled');
    },
    {
      queue: POLL_QUEUE,
      maxAttempts: POLL_MAX_ATTEMPTS,
      backoff: { baseMs: retryBaseMs, maxMs: Math.max(retryBaseMs, POLL_RETRY_MAX_MS) },
    },
  );
}
