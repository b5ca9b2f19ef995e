import { queueDepthCheck, queueRedisCheck, Scheduler, type Component } from '@ittd/platform';
import type { TriggerPollerContext } from '../trigger-poller-context';
import { triggerPollerSchedules } from './enqueue-due-polls-schedule';
import { pollJobs } from './poll-jobs';
import { IDENTITY_DELETE_QUEUE } from './delete-trigger-identity-job';
import { POLL_QUEUE } from './poll-trigger-job';

/**
 * The `worker` process: a job worker running `poll-trigger` and `delete-trigger-identity` (WORKER_CONCURRENCY
 * at once, at most PARTNER_CONCURRENCY per partner), readiness checks reporting the backlog (`warn`, never
 * `fail`) and what the queue needs from Redis, and, when SCHEDULER_ENABLED, the cron schedules (fired once per
 * tick across replicas; registered before the worker, so stopped after it). The platform adds the event
 * subscriptions and the outbox relay (see the service definition's `events`).
 *
 * @example
 *   const service: ServiceDefinition<typeof configSchema, DB> = { ..., worker: createPollWorker };
 */
export function createPollWorker(ctx: TriggerPollerContext): Component {
  const { queue, pollTrigger, deleteTriggerIdentity } = pollJobs(ctx);
  if (ctx.config.SCHEDULER_ENABLED) {
    ctx.lifecycle.register(
      new Scheduler({
        redis: ctx.redis,
        schedules: triggerPollerSchedules,
        context: ctx,
        prefix: `${ctx.config.REDIS_KEY_PREFIX}schedules:`,
        logger: ctx.logger,
        registry: ctx.metrics,
      }),
    );
  }
  ctx.health.add(queueDepthCheck(queue, { queues: [POLL_QUEUE, IDENTITY_DELETE_QUEUE] }));
  // Fails readiness when Redis may evict the queue's keys; warns when it does not persist them.
  ctx.health.add(queueRedisCheck(queue));
  return queue.createWorker({
    jobs: [pollTrigger, deleteTriggerIdentity],
    concurrency: ctx.config.WORKER_CONCURRENCY,
    name: 'poll-worker',
  });
}
