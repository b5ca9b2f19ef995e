import { eventMetrics, JobQueue, type JobDefinition } from '@ittd/platform';
import { Counter } from 'prom-client';
import type { ActionsContext } from '../actions-context';
import type { PendingRun } from '../data/action-run-repository';
import { defineActionRunJob, type actionRunPayload } from './action-run-job';
import { PartnerRateLimit } from './partner-rate-limit';
import { partnerSecurity } from '@ittd/platform';

/** The job queue of a service context and its `action-run` definition. */
export interface ActionJobs {
  queue: JobQueue;
  actionRun: JobDefinition<typeof actionRunPayload>;
}

const byContext = new WeakMap<ActionsContext, ActionJobs>();

/** A counter of the context's registry, made once (the registry refuses a second one of the same name). */
function counter<L extends string>(
  ctx: ActionsContext,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  const existing = ctx.metrics.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [ctx.metrics] });
}

/**
 * The context's job queue (keys under `<REDIS_KEY_PREFIX>jobs:`, metrics in the service registry) and the
 * `action-run` job, made once per context so the subscriptions and the worker share them. Rate windows live
 * under `<REDIS_KEY_PREFIX>actions:rate:`.
 *
 * @example
 *   const { queue, actionRun } = actionJobs(ctx);
 */
export function actionJobs(ctx: ActionsContext): ActionJobs {
  let jobs = byContext.get(ctx);
  if (!jobs) {
    const queue = new JobQueue({
      redis: ctx.redis,
      prefix: `${ctx.config.REDIS_KEY_PREFIX}jobs:`,
      registry: ctx.metrics,
      logger: ctx.logger,
    });
    const actionRun: JobDefinition<typeof actionRunPayload> = defineActionRunJob(
      {
        db: ctx.db,
        logger: ctx.logger,
        rateLimit: new PartnerRateLimit(ctx.redis, `${ctx.config.REDIS_KEY_PREFIX}actions:rate:`, {
          limit: ctx.config.PARTNER_RATE_LIMIT,
          windowMs: ctx.config.PARTNER_RATE_WINDOW_MS,
        }),
        requeue: async (payload, delayMs) => {
          await queue.enqueue(actionRun, payload, { uniqueKey: payload.run_id, delayMs });
        },
        eventMetrics: eventMetrics(ctx.metrics),
        rateLimited: counter(
          ctx,
          'actions_rate_limited_total',
          'action runs that waited for a partner rate window',
          ['service'],
        ),
        finished: counter(ctx, 'action_runs_finished_total', 'action runs ended, by partner and status', [
          'service',
          'status',
        ]),
        timeoutMs: ctx.config.PARTNER_TIMEOUT_MS,
        maxAnswerBytes: ctx.config.PARTNER_MAX_ANSWER_BYTES,
        keyring: partnerSecurity(ctx).keyring,
        urlPolicy: partnerSecurity(ctx).urlPolicy,
        maxAttempts: ctx.config.ACTION_MAX_ATTEMPTS,
        appletUrlBase: ctx.config.APPLET_URL_BASE,
      },
      ctx.config.ACTION_RETRY_BASE_MS,
    );
    jobs = { queue, actionRun };
    byContext.set(ctx, jobs);
  }
  return jobs;
}

/**
 * Enqueues an `action-run` job per run, the run id as unique key (a run whose job still waits is not
 * enqueued twice). Resolves how many jobs were new.
 *
 * @example
 *   await enqueueRuns(actionJobs(ctx), [{ id: runId, request_id: 'req-1' }]);
 */
export async function enqueueRuns(jobs: ActionJobs, runs: readonly PendingRun[]): Promise<number> {
  const results = await jobs.queue.enqueueMany(
    jobs.actionRun,
    runs.map((run) => ({ run_id: run.id, request_id: run.request_id })),
    (payload) => ({ uniqueKey: payload.run_id }),
  );
  return results.filter((result) => result.created).length;
}
