import { queueDepthCheck, queueRedisCheck, type Component } from '@ittd/platform';
import type { ActionsContext } from '../actions-context';
import { actionJobs } from './action-jobs';
import { ACTION_RUN_QUEUE } from './action-run-job';

/**
 * The `worker` process's job worker: runs `action-run` jobs (WORKER_CONCURRENCY at once), with readiness
 * checks reporting the backlog (`warn`, never `fail`) and what the queue needs from Redis. The platform
 * runs the event subscriptions in this process too.
 *
 * @example
 *   const service: ServiceDefinition<typeof configSchema, DB> = { ..., worker: createActionsWorker };
 */
export function createActionsWorker(ctx: ActionsContext): Component {
  const { queue, actionRun } = actionJobs(ctx);
  ctx.health.add(queueDepthCheck(queue, { queues: [ACTION_RUN_QUEUE] }));
  ctx.health.add(queueRedisCheck(queue));
  return queue.createWorker({
    jobs: [actionRun],
    concurrency: ctx.config.WORKER_CONCURRENCY,
    name: 'actions-worker',
  });
}
