import { withInbox, type EventContext } from '@ittd/platform';
import { partnerServiceKeyContext, type PartnerServiceChangedEvent } from '@ittd/engine-events';
import { applyPartnerVersion } from '../data/partner-repository';
import { enqueueIdentityDeletes, enqueuePolls } from '../jobs/poll-jobs';
import { SUBSCRIPTION_NAME, type EventHandlerDependencies } from './applet-changed-handler';

/** Most polls one `partner-service.changed` enqueues at once; the schedule polls the rest when due. */
export const WAITING_POLLS_BOUND = 10_000;

/**
 * Handles one `partner-service.changed`: once per event (`withInbox`), stores the partner's name, base URL
 * and key when the version is newer than the stored one (one row per partner: a key rotates for every
 * subscription at once). The key comes sealed under the engine's events keys; it is opened and stored sealed
 * under this service's SECRETS_KEYS (a key the events keys cannot open throws: retried, then dead-lettered,
 * never stored). A change makes the partner's failing subscriptions due now and its given-up
 * identity DELETEs pending again, and enqueues those DELETEs and a poll of each subscription of the partner
 * that is failing or not baselined yet (at most {@link WAITING_POLLS_BOUND}). The event holds the service key: it is never
 * logged here.
 *
 * @example
 *   subscribe(partnerServiceChanged, SUBSCRIPTION_NAME, (event, context) => handlePartnerServiceChanged(deps, event, context), options);
 */
export async function handlePartnerServiceChanged(
  deps: EventHandlerDependencies,
  event: PartnerServiceChangedEvent,
  context: Pick<EventContext, 'eventId'> & Partial<Pick<EventContext, 'requestId'>>,
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
  // Poll at once what was waiting for this partner: subscriptions failing (a new key or URL is what they
  // waited for) and those never baselined. Topics are separate streams, so an applet's applet.changed may
  // arrive before its partner's partner-service.changed: its baseline poll then failed ("partner not
  // known") and would otherwise wait out its backoff. The schedule takes the rest past the bound.
  const waiting = await deps.db
    .selectFrom('trigger_subscriptions')
    .select('trigger_identity')
    .where('service_slug', '=', event.slug)
    .where((eb) => eb.or([eb('consecutive_failures', '>', 0), eb('baselined_at', 'is', null)]))
    .limit(WAITING_POLLS_BOUND)
    .execute();
  await enqueuePolls(
    deps.jobs,
    waiting.map((row) => row.trigger_identity),
    { requestId: context.requestId },
  );
  return outcome.processed && outcome.result;
}
