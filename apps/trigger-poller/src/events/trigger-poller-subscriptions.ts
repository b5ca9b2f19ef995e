import { eventsOptions, subscribe, type Subscription } from '@ittd/platform';
import {
  appletChanged,
  partnerServiceChanged,
  type AppletChangedEvent,
  type PartnerServiceChangedEvent,
} from '@ittd/engine-events';
import { pollJobs } from '../jobs/poll-jobs';
import { partnerSecurity } from '@ittd/platform';
import type { TriggerPollerContext } from '../trigger-poller-context';
import { handleAppletChanged, SUBSCRIPTION_NAME } from './applet-changed-handler';
import { handlePartnerServiceChanged } from './partner-service-changed-handler';

/**
 * trigger-poller's subscriptions, run in the worker: `applet.changed` (keeps the subscriptions: an identity
 * is polled while at least one enabled applet uses it) and `partner-service.changed` (keeps the partners
 * table), both as subscription `trigger-poller`.
 *
 * @example
 *   events: { publishes: true, subscriptions: triggerPollerSubscriptions }
 */
export function triggerPollerSubscriptions(
  ctx: TriggerPollerContext,
): [Subscription<AppletChangedEvent>, Subscription<PartnerServiceChangedEvent>] {
  const deps = { db: ctx.db, jobs: pollJobs(ctx), security: partnerSecurity(ctx) };
  const options = eventsOptions(ctx);
  return [
    subscribe(
      appletChanged,
      SUBSCRIPTION_NAME,
      async (event, context) => {
        const outcome = await handleAppletChanged(deps, event, context);
        ctx.logger.debug(
          { applet_id: event.applet_id, version: event.version, reqId: context.requestId, ...outcome },
          'applet change applied',
        );
      },
      options,
    ),
    subscribe(
      partnerServiceChanged,
      SUBSCRIPTION_NAME,
      async (event, context) => {
        const applied = await handlePartnerServiceChanged(deps, event, context);
        ctx.logger.debug({ partner: event.slug, version: event.version, applied }, 'partner change applied');
      },
      options,
    ),
  ];
}
