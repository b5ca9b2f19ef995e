import { JobQueue, type JobDefinition } from '@ittd/platform';
import type { TriggerPollerContext } from '../trigger-poller-context';
import { definePollTriggerJob, type pollTriggerPayload } from './poll-trigger-job';

/** The job queue of a service context and its `poll-trigger` definition. */
export interface PollJobs {
  queue: JobQueue;
  pollTrigger: JobDefinition<typeof pollTriggerPayload>;
}

const byContext = new WeakMap<TriggerPollerContext, PollJobs>();

/**
 * The context's job queue (keys under `<REDIS_KEY_PREFIX>jobs:`, metrics in the service registry) and
 * `poll-trigger` job, made once per context so that the web app, the worker and every schedule run share
 * them (a queue registers a metrics source: one per process, not one per tick).
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
    const pollTrigger = definePollTriggerJob(
      {
        db: ctx.db,
        logger: ctx.logger,
        eventLimit: ctx.config.POLL_EVENT_LIMIT,
        timeoutMs: ctx.config.PARTNER_TIMEOUT_MS,
        maxAnswerBytes: ctx.config.PARTNER_MAX_ANSWER_BYTES,
      },
      ctx.config.POLL_RETRY_BASE_MS,
    );
    jobs = { queue, pollTrigger };
    byContext.set(ctx, jobs);
  }
  return jobs;
}

/**
 * Enqueues one poll per trigger identity with the identity as unique key, so a burst of notifications (or a
 * notification and the schedule) for one identity makes one waiting poll. Returns how many were new.
 *
 * @example
 *   const created = await enqueuePolls(pollJobs(ctx), ['ti_1', 'ti_2']);
 */
export async function enqueuePolls(jobs: PollJobs, triggerIdentities: readonly string[]): Promise<number> {
  const results = await jobs.queue.enqueueMany(
    jobs.pollTrigger,
    triggerIdentities.map((trigger_identity) => ({ trigger_identity })),
    (payload) => ({ uniqueKey: payload.trigger_identity }),
  );
  return results.filter((result) => result.created).length;
}
