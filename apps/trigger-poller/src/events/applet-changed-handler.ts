import { withInbox, type EventContext } from '@ittd/platform';
import type { AppletChangedEvent } from '@ittd/engine-events';
import { applyAppletTrigger, type AppletTrigger } from '../data/applet-trigger-repository';
import type { TriggerPollerDatabase } from '../data/database';
import { pendingDeletionsAmong } from '../data/identity-deletion-repository';
import { enqueueIdentityDeletes, enqueuePolls, type PollJobs } from '../jobs/poll-jobs';
import type { PartnerSecurity } from '@ittd/platform';

/** The name of trigger-poller's subscriptions (consumer groups) and of its inbox rows. */
export const SUBSCRIPTION_NAME = 'trigger-poller';

/** What the event handlers need. */
export interface EventHandlerDependencies {
  db: TriggerPollerDatabase;
  jobs: PollJobs;
  /** Seals the partner keys stored (SECRETS_KEYS) and opens the ones events carry (EVENTS_SECRETS_KEYS). */
  security: Pick<PartnerSecurity, 'keyring' | 'eventKeys'>;
}

/** The applet's trigger as this service keeps it: a deleted applet is neither enabled nor used. */
export function appletTriggerOf(event: AppletChangedEvent): AppletTrigger {
  const deleted = event.change === 'deleted';
  return {
    applet_id: event.applet_id,
    version: event.version,
    trigger_identity: event.trigger.trigger_identity,
    enabled: event.enabled && !deleted,
    deleted,
    service_slug: event.trigger.service,
    trigger_slug: event.trigger.slug,
    trigger_fields: event.trigger.fields,
    user_id: event.user.id,
    user_timezone: event.user.timezone,
  };
}

/**
 * Handles one `applet.changed`: once per event (`withInbox`), applies it to the applet's copy when its version
 * is newer and brings the subscriptions of the identities it touched in line (polled while at least one
 * enabled applet uses an identity; see `applyAppletTrigger`). After the commit it enqueues a poll of each
 * identity an enabled applet uses (a new subscription's baseline comes at once instead of at the next
 * schedule tick) and the partner DELETE of each identity that lost its last applet. A redelivered event
 * (inbox hit) enqueues the DELETE still pending for its identity again, so a crash between commit and enqueue
 * loses nothing (the schedule's sweep of overdue DELETEs covers the old identity of a changed applet).
 *
 * @example
 *   subscribe(appletChanged, SUBSCRIPTION_NAME, (event, context) => handleAppletChanged(deps, event, context), options);
 */
export async function handleAppletChanged(
  deps: EventHandlerDependencies,
  event: AppletChangedEvent,
  context: Pick<EventContext, 'eventId' | 'requestId'>,
): Promise<{ subscribed: string[]; unsubscribed: string[] }> {
  const applet = appletTriggerOf(event);
  const outcome = await withInbox(deps.db, SUBSCRIPTION_NAME, context.eventId, (trx) =>
    applyAppletTrigger(trx, applet, context.requestId),
  );
  const changed = outcome.processed
    ? { subscribed: outcome.result.subscribed, unsubscribed: outcome.result.unsubscribed }
    : { subscribed: [], unsubscribed: [] };
  const deletes = await pendingDeletionsAmong(
    deps.db,
    outcome.processed ? changed.unsubscribed : [applet.trigger_identity],
  );
  await enqueueIdentityDeletes(deps.jobs, deletes);
  await enqueuePolls(deps.jobs, changed.subscribed);
  return changed;
}
