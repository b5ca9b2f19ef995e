import { schedule } from '@ittd/platform';
import { claimOverdueDeletions } from '../data/identity-deletion-repository';
import { claimDueTriggerIdentities } from '../data/subscription-repository';
import type { TriggerPollerContext } from '../trigger-poller-context';
import { enqueueIdentityDeletes, enqueuePolls, pollJobs } from './poll-jobs';

/** A pending partner DELETE whose job has not run this long after it was due is taken as lost. */
const DELETE_OVERDUE_SECONDS = 120;

/** Most lost DELETE jobs one run enqueues again. */
const DELETE_SWEEP_LIMIT = 1000;

/**
 * One run of the schedule: takes up to POLL_BATCH_SIZE subscriptions whose `next_poll_at` passed (longest
 * overdue first), moving their `next_poll_at` POLL_INTERVAL_SECONDS ahead (a failed poll then sets its backoff
 * instead), so a row is taken once per interval whatever its poll does, and enqueues their polls; then
 * enqueues again the partner DELETEs whose job was lost. Failing subscriptions are backed off by
 * `next_poll_at`, so they never fill the batch in place of healthy ones. Resolves the counts.
 *
 * @example
 *   const { due, enqueued } = await enqueueDuePollsOnce(ctx);
 */
export async function enqueueDuePollsOnce(
  ctx: TriggerPollerContext,
): Promise<{ due: number; enqueued: number; deletes: number }> {
  const jobs = pollJobs(ctx);
  // Taken before the enqueue: a poll that fails fast then sets its backoff after this. If the enqueue fails,
  // the rows taken are polled one interval later (the run fails and logs it).
  const due = await claimDueTriggerIdentities(ctx.db, {
    limit: ctx.config.POLL_BATCH_SIZE,
    intervalSeconds: ctx.config.POLL_INTERVAL_SECONDS,
  });
  const enqueued = await enqueuePolls(jobs, due);
  const lost = await claimOverdueDeletions(ctx.db, {
    overdueSeconds: DELETE_OVERDUE_SECONDS,
    limit: DELETE_SWEEP_LIMIT,
  });
  const deletes = await enqueueIdentityDeletes(jobs, lost);
  return { due: due.length, enqueued, deletes };
}

/**
 * Every minute: {@link enqueueDuePollsOnce}. Identities whose poll still waits are not enqueued twice (unique
 * keys), so a backlog does not grow from one tick to the next.
 *
 * Runs as `node main.js run-job enqueue-due-polls` (Chronos/Metronome, from service.json) or inside the
 * worker when SCHEDULER_ENABLED.
 *
 * @example
 *   await enqueueDuePolls.handler(ctx, { name: 'enqueue-due-polls', tick: new Date(), catchUp: false, signal });
 */
export const enqueueDuePolls = schedule<TriggerPollerContext>(
  'enqueue-due-polls',
  '* * * * *',
  async (ctx) => {
    const counts = await enqueueDuePollsOnce(ctx);
    ctx.logger.info(counts, 'due polls enqueued');
  },
  {
    description: 'Enqueue poll-trigger for subscriptions whose next_poll_at passed, and lost partner DELETEs',
    // The next tick is a minute away: making up for missed ones is pointless.
    missed: 'skip',
  },
);

/** Every schedule of the service: `run-job` names and the worker's scheduler read this list. */
export const triggerPollerSchedules = [enqueueDuePolls];
