import {
  defineJob,
  publish,
  text,
  type EventMetrics,
  type JobDefinition,
  type OutboundUrlPolicy,
  type SecretKeyring,
} from '@ittd/platform';
import { triggerEventRecorded } from '@ittd/engine-events';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { TriggerPollerDatabase } from '../data/database';
import { listEnabledAppletVersions } from '../data/applet-trigger-repository';
import { insertNewEvents, type ReceivedEvent } from '../data/event-repository';
import {
  findPollTarget,
  lockForRecording,
  markPolled,
  markPolledIfNothingNew,
  markPollFailed,
  type PollBackoff,
} from '../data/subscription-repository';
import type { PartnerConcurrency } from '../partner/partner-concurrency';
import {
  fetchTriggerEvents,
  PartnerCallError,
  type TriggerCheckResult,
} from '../partner/partner-trigger-client';

/** The queue of trigger polls (one queue: the platform's rate limits are per queue, set on workers). */
export const POLL_QUEUE = 'trigger-polls';

/**
 * Payload of a `poll-trigger` job: the trigger identity, and the `X-Request-ID` of the realtime notification
 * that asked for the poll, if one did (it becomes the request id of the `trigger-event.recorded` events the
 * poll publishes). Its strings follow the platform string rule (`text()`), and it is strict, so no other key
 * rides along: the queue writes the payload it was given with `JSON.stringify`, and an extra key of any depth
 * or size would go with it.
 */
export const pollTriggerPayload = z.strictObject({
  trigger_identity: text().min(1).max(200),
  request_id: text().min(1).max(200).optional(),
});

/** A `poll-trigger` payload. */
export type PollTriggerPayload = z.output<typeof pollTriggerPayload>;

/**
 * Attempts per poll job. Partner failures never use them (they mark the subscription, which is backed off on
 * its own: see {@link pollTrigger}); they are for failures of our side (Postgres, Redis), retried quickly.
 */
export const POLL_MAX_ATTEMPTS = 5;

/** Upper bound of a job retry delay. */
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
  /** Seconds from a successful poll to the next regular one (POLL_INTERVAL_SECONDS). */
  intervalSeconds: number;
  /** Backoff of a failing subscription (POLL_BACKOFF_BASE_SECONDS, POLL_BACKOFF_MAX_SECONDS). */
  backoff: PollBackoff;
  /** Per-partner limit of calls at once in this process (PARTNER_CONCURRENCY). */
  partnerConcurrency: PartnerConcurrency;
  /** Opens the stored partner keys (SECRETS_KEYS). */
  keyring: SecretKeyring;
  /** Checks the partner's URL before each call (https outside local, no private addresses). */
  urlPolicy: OutboundUrlPolicy;
  /** Counts `events_published_total`. */
  eventMetrics?: EventMetrics;
}

/**
 * What one poll did. `found` is false when the subscription was deleted meanwhile (nothing to do);
 * `deferred` when its partner already had PARTNER_CONCURRENCY calls running in this process (nothing done:
 * the job puts the poll back); `failed` holds the partner failure that was recorded on the subscription.
 * `received` events the partner answered, `recorded` of them new, `refused` of them not storable (logged),
 * `published` the `trigger-event.recorded` events (0 on the baseline poll, which records what was there).
 */
export interface PollOutcome {
  found: boolean;
  deferred?: boolean;
  failed?: string;
  baseline?: boolean;
  received: number;
  recorded: number;
  refused: number;
  published: number;
}

const NOTHING = { received: 0, recorded: 0, refused: 0, published: 0 };

/** The ingredients of a partner event: the event without its `meta` (Service API `TriggerEvent`). */
function ingredientsOf(payload: Record<string, unknown>): Record<string, unknown> {
  const ingredients: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    // defineProperty: a `__proto__` ingredient stays an own key instead of changing the prototype.
    if (key !== 'meta')
      Object.defineProperty(ingredients, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return ingredients;
}

/**
 * Records a failed poll on the subscription (backoff, last error) and logs it: `warn` (`error` for a rejected
 * key) on the first failure of a streak only, `debug` after, so a dead partner writes one line, not one a
 * minute.
 */
async function recordFailure(
  deps: PollDependencies,
  triggerIdentity: string,
  serviceSlug: string,
  error: PartnerCallError | string,
  requestId: string,
): Promise<PollOutcome> {
  const message = typeof error === 'string' ? error : error.message;
  const marked = await markPollFailed(deps.db, triggerIdentity, message, deps.backoff);
  if (marked === undefined) return { found: false, ...NOTHING };
  const fields = {
    trigger_identity: triggerIdentity,
    service: serviceSlug,
    reqId: requestId,
    consecutive_failures: marked.consecutive_failures,
    next_poll_at: marked.next_poll_at,
    err: message,
  };
  if (marked.consecutive_failures > 1) deps.logger.debug(fields, 'trigger poll failed again');
  else if (error instanceof PartnerCallError && error.serviceKeyRejected)
    deps.logger.error(
      fields,
      'partner rejected the service key: subscription backed off until the key changes',
    );
  else deps.logger.warn(fields, 'trigger poll failed: subscription backed off');
  return { found: true, failed: message, ...NOTHING };
}

/**
 * Polls one trigger identity: calls the partner's trigger endpoint with its key (from the partners table),
 * records the events not seen yet and, unless this is the subscription's first successful poll (the
 * baseline: what the partner had before the subscription existed is recorded as seen and fires nothing),
 * publishes one `trigger-event.recorded` per newly recorded event in the same transaction (oldest first,
 * request id `call.publishRequestId`, else `call.requestId`). A successful poll clears the failure streak and
 * sets the next regular poll POLL_INTERVAL_SECONDS away.
 *
 * An event that cannot be stored is refused and logged (warn, with the reasons) while the others are
 * recorded. A partner failure (5xx, time-out, unreachable, invalid or too large answer, 401/403, partner not
 * known yet) does not throw: it is recorded on the subscription, whose next poll moves out by its backoff
 * (`markPollFailed`), so a failing subscription costs one call per backoff step, never a retry chain or a
 * dead letter. Throws only for failures of our side (Postgres) and the job's abort, so the queue retries.
 * Idempotent: events are unique per identity and the row lock makes two polls record one after the other.
 *
 * @example
 *   const outcome = await pollTrigger(deps, 'ti_1', { signal, requestId: 'poll-42-1' });
 *   // { found: true, baseline: false, received: 3, recorded: 1, refused: 0, published: 1 }
 */
export async function pollTrigger(
  deps: PollDependencies,
  triggerIdentity: string,
  call: { signal: AbortSignal; requestId: string; publishRequestId?: string },
): Promise<PollOutcome> {
  const target = await findPollTarget(deps.db, triggerIdentity, deps.keyring);
  if (!target) return { found: false, ...NOTHING };
  const partner = target.partner;
  if (partner === null) {
    return recordFailure(
      deps,
      triggerIdentity,
      target.service_slug,
      `partner ${target.service_slug} is not known (no partner-service.changed yet, nor PUT /admin/partners/${target.service_slug})`,
      call.requestId,
    );
  }
  if (!deps.partnerConcurrency.tryAcquire(target.service_slug)) {
    return { found: true, deferred: true, ...NOTHING };
  }
  let checked: TriggerCheckResult;
  try {
    checked = await fetchTriggerEvents({
      apiBaseUrl: partner.api_base_url,
      serviceKey: partner.service_key,
      serviceSlug: target.service_slug,
      triggerSlug: target.trigger_slug,
      triggerIdentity,
      triggerFields: target.trigger_fields,
      userTimezone: target.user_timezone,
      limit: deps.eventLimit,
      timeoutMs: deps.timeoutMs,
      maxAnswerBytes: deps.maxAnswerBytes,
      urlPolicy: deps.urlPolicy,
      signal: call.signal,
      requestId: call.requestId,
    });
  } catch (error) {
    if (error instanceof PartnerCallError) {
      return recordFailure(deps, triggerIdentity, target.service_slug, error, call.requestId);
    }
    throw error;
  } finally {
    deps.partnerConcurrency.release(target.service_slug);
  }
  const { events, refused } = checked;
  if (refused.length > 0) {
    deps.logger.warn(
      { trigger_identity: triggerIdentity, service: target.service_slug, reqId: call.requestId, refused },
      'partner events refused: they cannot be stored',
    );
  }
  const received = events.length + refused.length;
  // The common case, nothing new (the partner answers the same latest items): one statement marks the poll,
  // no recording transaction. Anything new (or a subscription gone meanwhile) takes the locked path below.
  const quiet = await markPolledIfNothingNew(
    deps.db,
    triggerIdentity,
    events.map((event) => event.eventId),
    deps.intervalSeconds,
  );
  if (quiet !== undefined) {
    return {
      found: true,
      baseline: quiet.baseline,
      received,
      recorded: 0,
      refused: refused.length,
      published: 0,
    };
  }
  const publishRequestId = call.publishRequestId ?? call.requestId;
  const recorded = await deps.db.transaction().execute(async (trx) => {
    const state = await lockForRecording(trx, triggerIdentity);
    if (state === undefined) return undefined;
    const newIds = new Set(await insertNewEvents(trx, triggerIdentity, events));
    let published = 0;
    if (state.baselined) {
      const byId = new Map<string, ReceivedEvent>();
      for (const event of events)
        if (newIds.has(event.eventId) && !byId.has(event.eventId)) byId.set(event.eventId, event);
      const oldestFirst = [...byId.values()].sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime());
      const recordedAt = new Date().toISOString();
      // The applets this event may fire, as this service knows them now (see trigger-event.recorded).
      const applets = oldestFirst.length > 0 ? await listEnabledAppletVersions(trx, triggerIdentity) : [];
      for (const event of oldestFirst) {
        await publish(
          trx,
          triggerEventRecorded,
          {
            trigger_identity: triggerIdentity,
            service: target.service_slug,
            trigger: target.trigger_slug,
            event_id: event.eventId,
            ingredients: ingredientsOf(event.payload),
            occurred_at: event.timestamp.toISOString(),
            recorded_at: recordedAt,
            applets,
          },
          { requestId: publishRequestId, metrics: deps.eventMetrics },
        );
        published++;
      }
    }
    await markPolled(trx, triggerIdentity, deps.intervalSeconds);
    return { baseline: !state.baselined, recorded: newIds.size, published };
  });
  if (recorded === undefined) return { found: false, ...NOTHING };
  return { found: true, ...recorded, received, refused: refused.length };
}

/** Puts a poll back on the queue after `delayMs` (same unique key): how a deferred poll waits without a slot. */
export type DeferPoll = (payload: PollTriggerPayload, delayMs: number) => Promise<void>;

/**
 * The `poll-trigger` job: {@link pollTrigger} on the {@link POLL_QUEUE}, with the job's own request id
 * `poll-<job id>-<attempt>` and the payload's `request_id` (a notification's) for what it publishes. A poll
 * deferred because its partner is at PARTNER_CONCURRENCY is put back with `defer` after `busyDelayMs`
 * (0.5x to 1.5x, jitter). {@link POLL_MAX_ATTEMPTS} attempts with backoff from `retryBaseMs` up to 60 s, for
 * failures of our side only (partner failures back off the subscription instead).
 *
 * @example
 *   const job = definePollTriggerJob(deps, { retryBaseMs: 2000, busyDelayMs: 1000, defer });
 *   await queue.enqueue(job, { trigger_identity: 'ti_1' }, { uniqueKey: 'ti_1' });
 */
export function definePollTriggerJob(
  deps: PollDependencies,
  options: { retryBaseMs: number; busyDelayMs: number; defer: DeferPoll },
): JobDefinition<typeof pollTriggerPayload> {
  return defineJob(
    'poll-trigger',
    pollTriggerPayload,
    async (payload, job) => {
      const requestId = `poll-${job.id}-${job.attempt}`;
      const outcome = await pollTrigger(deps, payload.trigger_identity, {
        signal: job.signal,
        requestId,
        publishRequestId: payload.request_id,
      });
      if (outcome.deferred) {
        await options.defer(payload, Math.round(options.busyDelayMs * (0.5 + Math.random())));
      }
      deps.logger.debug(
        {
          trigger_identity: payload.trigger_identity,
          jobId: job.id,
          reqId: payload.request_id ?? requestId,
          ...outcome,
        },
        'trigger polled',
      );
    },
    {
      queue: POLL_QUEUE,
      maxAttempts: POLL_MAX_ATTEMPTS,
      backoff: { baseMs: options.retryBaseMs, maxMs: Math.max(options.retryBaseMs, POLL_RETRY_MAX_MS) },
    },
  );
}
