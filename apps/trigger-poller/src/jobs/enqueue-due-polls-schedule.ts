import { schedule } from '@ittd/platform';
import { findDueTriggerIdentities } from '../data/subscription-repository';
import type { TriggerPollerContext } from '../trigger-poller-context';
import { enqueuePolls, pollJobs } from './poll-jobs';

/**
 * Every minute: enqueues `poll-trigger` for subscriptions not polled for POLL_INTERVAL_SECONDS, at most
 * POLL_BATCH_SIZE (never polled first, then longest unpolled). Identities whose poll still waits are not
 * enqueued twice (unique keys), so a backlog does not grow from one tick to the next.
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
    const due = await findDueTriggerIdentities(ctx.db, {
      intervalSeconds: ctx.config.POLL_INTERVAL_SECONDS,
      limit: ctx.config.POLL_BATCH_SIZE,
    });
    const enqueued = await enqueuePolls(pollJobs(ctx), due);
    ctx.logger.info({ due: due.length, enqueued }, 'due polls enqueued');
  },
  {
    description: 'Enqueue poll-trigger for subscriptions not polled for POLL_INTERVAL_SECONDS',
    // The next tick is a minute away: making up for missed ones is pointless.
    missed: 'skip',
  },
);

/** Every schedule of the service: `run-job` names and the worker's scheduler read this list. */
export const triggerPollerSchedules = [enqueueDuePolls];
