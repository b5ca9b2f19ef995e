import DataLoader from 'dataloader';
import { eventMetrics, JobPayloadError, JobQueue, type JobDefinition } from '@ittd/platform';
import type { TriggerPollerContext } from '../trigger-poller-context';
import { PartnerConcurrency } from '../partner/partner-concurrency';
import { partnerSecurity } from '@ittd/platform';
import {
  defineDeleteTriggerIdentityJob,
  type deleteTriggerIdentityPayload,
} from './delete-trigger-identity-job';
import { definePollTriggerJob, pollTriggerPayload, type PollTriggerPayload } from './poll-trigger-job';

/** Longest delay between two attempts of a partner DELETE: 6 hours. */
const IDENTITY_DELETE_RETRY_MAX_MS = 6 * 3600 * 1000;

/** The job queue of a service context and its job definitions. */
export interface PollJobs {
  queue: JobQueue;
  pollTrigger: JobDefinition<typeof pollTriggerPayload>;
  deleteTriggerIdentity: JobDefinition<typeof deleteTriggerIdentityPayload>;
  /** This process's per-partner call limit, shared by both jobs. */
  partnerConcurrency: PartnerConcurrency;
  /** Enqueues polls, coalescing the calls of one event-loop turn into one script call (see {@link enqueuePolls}). */
  pollEnqueuer: DataLoader<PollTriggerPayload, boolean>;
}

/** Most polls one coalesced enqueue carries (a notification holds at most 1000 entries). */
const MAX_COALESCED_POLLS = 1000;

/**
 * One `enqueueMany` for every poll asked for in the same event-loop turn (DataLoader, `setImmediate`
 * scheduling, no cache): concurrent notifications share one Redis script call and its fixed cost (measured:
 * about 19 µs of Redis time for a 1-poll call) instead of paying it each. Resolves each poll's `created`;
 * when the call fails, every caller in the batch gets the error (none of them answered 2xx).
 */
function coalescedPollEnqueuer(
  queue: JobQueue,
  pollTrigger: JobDefinition<typeof pollTriggerPayload>,
): DataLoader<PollTriggerPayload, boolean> {
  return new DataLoader(
    async (payloads) => {
      const results = await queue.enqueueMany(pollTrigger, payloads, (payload) => ({
        uniqueKey: payload.trigger_identity,
      }));
      return results.map((result) => result.created);
    },
    { cache: false, maxBatchSize: MAX_COALESCED_POLLS, batchScheduleFn: (run) => setImmediate(run) },
  );
}

const byContext = new WeakMap<TriggerPollerContext, PollJobs>();

/**
 * The context's job queue (keys under `<REDIS_KEY_PREFIX>jobs:`, metrics in the service registry), its
 * `poll-trigger` and `delete-trigger-identity` jobs and the per-partner call limit, made once per context so
 * that the web app, the worker, the event handlers and every schedule run share them (a queue registers a
 * metrics source: one per process, not one per tick).
 *
 * @example
 *   const { queue, pollTrigger } = pollJobs(ctx);
 */
export function pollJobs(ctx: TriggerPollerContext): PollJobs {
  let jobs = byContext.get(ctx);
  if (!jobs) {
    const queue = new JobQueue({
      redis: ctx.redis,
      prefix: `${ctx.config.REDIS_KEY_PREFIX}jobs:`,
      registry: ctx.metrics,
      logger: ctx.logger,
    });
    const partnerConcurrency = new PartnerConcurrency(ctx.config.PARTNER_CONCURRENCY);
    const { keyring, urlPolicy } = partnerSecurity(ctx);
    const pollTrigger: PollJobs['pollTrigger'] = definePollTriggerJob(
      {
        db: ctx.db,
        logger: ctx.logger,
        eventLimit: ctx.config.POLL_EVENT_LIMIT,
        timeoutMs: ctx.config.PARTNER_TIMEOUT_MS,
        maxAnswerBytes: ctx.config.PARTNER_MAX_ANSWER_BYTES,
        intervalSeconds: ctx.config.POLL_INTERVAL_SECONDS,
        backoff: {
          baseSeconds: ctx.config.POLL_BACKOFF_BASE_SECONDS,
          maxSeconds: ctx.config.POLL_BACKOFF_MAX_SECONDS,
        },
        partnerConcurrency,
        keyring,
        urlPolicy,
        eventMetrics: eventMetrics(ctx.metrics),
      },
      {
        retryBaseMs: ctx.config.POLL_RETRY_BASE_MS,
        busyDelayMs: ctx.config.PARTNER_BUSY_DELAY_MS,
        defer: async (payload, delayMs) => {
          await queue.enqueue(pollTrigger, payload, { uniqueKey: payload.trigger_identity, delayMs });
        },
      },
    );
    const deleteTriggerIdentity: PollJobs['deleteTriggerIdentity'] = defineDeleteTriggerIdentityJob({
      db: ctx.db,
      logger: ctx.logger,
      timeoutMs: ctx.config.PARTNER_TIMEOUT_MS,
      partnerConcurrency,
      keyring,
      urlPolicy,
      retryBaseMs: ctx.config.IDENTITY_DELETE_RETRY_BASE_MS,
      retryMaxMs: IDENTITY_DELETE_RETRY_MAX_MS,
      maxAttempts: ctx.config.IDENTITY_DELETE_MAX_ATTEMPTS,
      retry: async (payload, delayMs) => {
        await queue.enqueue(deleteTriggerIdentity, payload, { uniqueKey: payload.trigger_identity, delayMs });
      },
    });
    jobs = {
      queue,
      pollTrigger,
      deleteTriggerIdentity,
      partnerConcurrency,
      pollEnqueuer: coalescedPollEnqueuer(queue, pollTrigger),
    };
    byContext.set(ctx, jobs);
  }
  return jobs;
}

/**
 * Enqueues one poll per trigger identity with the identity as unique key, so a burst of notifications (or a
 * notification and the schedule) for one identity makes one waiting poll (the first one's `requestId` is
 * kept). `requestId` is the realtime notification's `X-Request-ID`, carried to what the poll publishes.
 * Resolves how many were new, once every poll is in Redis. Calls made in the same event-loop turn (the
 * concurrent notifications of a busy web process) go to Redis as one script call; each payload is checked
 * here first, so one caller's bad payload fails that caller alone (`JobPayloadError`), never the batch.
 *
 * @example
 *   const created = await enqueuePolls(pollJobs(ctx), ['ti_1', 'ti_2'], { requestId: req.id });
 */
export async function enqueuePolls(
  jobs: PollJobs,
  triggerIdentities: readonly string[],
  { requestId }: { requestId?: string } = {},
): Promise<number> {
  if (triggerIdentities.length === 0) return 0;
  const payloads = triggerIdentities.map((trigger_identity) =>
    requestId === undefined ? { trigger_identity } : { trigger_identity, request_id: requestId },
  );
  for (const [index, payload] of payloads.entries()) {
    const checked = pollTriggerPayload.safeParse(payload);
    if (!checked.success)
      throw new JobPayloadError(
        jobs.pollTrigger.name,
        payloads.length > 1 ? index : null,
        checked.error.issues,
      );
  }
  const created = await jobs.pollEnqueuer.loadMany(payloads);
  for (const outcome of created) if (outcome instanceof Error) throw outcome;
  return created.filter((outcome) => outcome === true).length;
}

/**
 * Enqueues the partner DELETE of each trigger identity (unique per identity); what it sends is in
 * `trigger_identity_deletions`. Returns how many were new.
 *
 * @example
 *   await enqueueIdentityDeletes(pollJobs(ctx), ['9c']);
 */
export async function enqueueIdentityDeletes(
  jobs: PollJobs,
  triggerIdentities: readonly string[],
): Promise<number> {
  if (triggerIdentities.length === 0) return 0;
  const results = await jobs.queue.enqueueMany(
    jobs.deleteTriggerIdentity,
    triggerIdentities.map((trigger_identity) => ({ trigger_identity })),
    (payload) => ({ uniqueKey: payload.trigger_identity }),
  );
  return results.filter((result) => result.created).length;
}
