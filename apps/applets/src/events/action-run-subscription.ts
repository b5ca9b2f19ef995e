import {
  eventMetrics,
  eventsOptions,
  subscribe,
  withInbox,
  type ServiceContext,
  type Subscription,
} from '@ittd/platform';
import { actionRunFinished, type ActionRunFinishedEvent } from '@ittd/engine-events';
import type { AppletsConfigSchema } from '../config';
import type { DB } from '../data/database';
import { recordActionRun } from '../domain/activity';

/** The subscription name of applets on `action-run.finished` (its consumer group and inbox key). */
export const ACTION_RUN_SUBSCRIPTION = 'applets';

/**
 * applets' subscription to `action-run.finished`: each run becomes (or updates) its activity entry, and an
 * applet whose last AUTO_DISABLE_AFTER_FAILURES runs all failed is disabled, publishing `applet.changed`
 * with the run's request id. The work runs in `withInbox`, so a redelivered event is a no-op; a failing
 * handler is retried by the platform, then dead-lettered.
 *
 * @example
 *   events: { publishes: true, subscriptions: (ctx) => [actionRunSubscription(ctx)] }
 */
export function actionRunSubscription(
  ctx: ServiceContext<AppletsConfigSchema, DB>,
): Subscription<ActionRunFinishedEvent> {
  const metrics = eventMetrics(ctx.metrics);
  return subscribe(
    actionRunFinished,
    ACTION_RUN_SUBSCRIPTION,
    async (run, { eventId, requestId }) => {
      const outcome = await withInbox(ctx.db, ACTION_RUN_SUBSCRIPTION, eventId, (trx) =>
        recordActionRun(trx, run, ctx.config.AUTO_DISABLE_AFTER_FAILURES, { requestId, metrics }),
      );
      if (!outcome.processed) return;
      const fields = {
        reqId: requestId,
        eventId,
        runId: run.run_id,
        appletId: run.applet_id,
        status: run.status,
      };
      if (outcome.result === 'applet-gone') ctx.logger.info(fields, 'run of a deleted applet ignored');
      else if (outcome.result === 'recorded-and-disabled')
        ctx.logger.warn(fields, 'applet disabled: its last runs all failed');
      else ctx.logger.debug(fields, 'action run recorded');
    },
    eventsOptions(ctx),
  );
}
