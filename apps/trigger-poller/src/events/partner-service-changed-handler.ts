import { withInbox, type EventContext } from '@ittd/platform';
import { partnerServiceKeyContext, type PartnerServiceChangedEvent } from '@ittd/engine-events';
import { applyPartnerVersion } from '../data/partner-repository';
import { enqueueIdentityDeletes } from '../jobs/poll-jobs';
import { SUBSCRIPTION_NAME, type EventHandlerDependencies } from './applet-changed-handler';

/**
 * Handles one `partner-service.changed`: once per event (`withInbox`), stores the partner's name, base URL
 * and key when the version is newer than the stored one (one row per partner: a key rotates for every
 * subscription at once). The key comes sealed under the engine's events keys; it is opened and stored sealed
 * under this service's SECRETS_KEYS (a key the events keys cannot open throws: retried, then dead-lettered,
 * never stored). A change makes the partner's failing subscriptions due now and its given-up
 * identity DELETEs pending again, and enqueues those DELETEs. The event holds the service key: it is never
 * logged here.
 *
 * @example
 *   subscribe(partnerServiceChanged, SUBSCRIPTION_NAME, (event, context) => handlePartnerServiceChanged(deps, event, context), options);
 */
export async function handlePartnerServiceChanged(
  deps: EventHandlerDependencies,
  event: PartnerServiceChangedEvent,
  context: Pick<EventContext, 'eventId'>,
): Promise<boolean> {
  const outcome = await withInbox(deps.db, SUBSCRIPTION_NAME, context.eventId, (trx) =>
    applyPartnerVersion(
      trx,
      {
        slug: event.slug,
        name: event.name,
        api_base_url: event.api_base_url,
        service_key: deps.security.eventKeys.open(
          event.service_key_sealed,
          partnerServiceKeyContext(event.slug),
        ),
      },
      event.version,
      deps.security.keyring,
    ),
  );
  const pending = await deps.db
    .selectFrom('trigger_identity_deletions')
    .select('trigger_identity')
    .where('service_slug', '=', event.slug)
    .where('gave_up_at', 'is', null)
    .execute();
  await enqueueIdentityDeletes(
    deps.jobs,
    pending.map((row) => row.trigger_identity),
  );
  return outcome.processed && outcome.result;
}
