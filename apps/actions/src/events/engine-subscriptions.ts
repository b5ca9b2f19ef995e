import {
  appletChanged,
  partnerServiceChanged,
  partnerServiceKeyContext,
  triggerEventRecorded,
  type AppletChangedEvent,
  type PartnerServiceChangedEvent,
  type TriggerEventRecordedEvent,
} from '@ittd/engine-events';
import { eventsOptions, subscribe, withInbox, type EventContext, type Subscription } from '@ittd/platform';
import type { Logger } from 'pino';
import type { ActionsContext } from '../actions-context';
import {
  createRunsForEvent,
  findAppletCopiesBehind,
  findUnfinishedRuns,
  type AppletCopyBehind,
  type PendingRun,
} from '../data/action-run-repository';
import { applyAppletChange } from '../data/applet-repository';
import type { ActionsDatabase } from '../data/database';
import { applyPartnerChange } from '../data/partner-repository';
import { partnerSecurity, type PartnerSecurity } from '@ittd/platform';
import { actionJobs, enqueueRuns } from '../jobs/action-jobs';

/** The name of this service's subscriptions (one consumer group per topic). */
export const SUBSCRIPTION = 'actions';

/** What the event handlers need. */
export interface EventHandlerDependencies {
  db: ActionsDatabase;
  logger: Logger;
  /** Enqueues an `action-run` job per run (unique per run); resolves how many were new. */
  enqueue(runs: readonly PendingRun[]): Promise<number>;
  /** Opens the keys events carry (EVENTS_SECRETS_KEYS) and seals the stored ones (SECRETS_KEYS). */
  security: Pick<PartnerSecurity, 'keyring' | 'eventKeys'>;
}

/**
 * `applet.changed`: keeps the local applet copy, once per event (inbox) and only for a newer `version`.
 *
 * @example
 *   await handleAppletChanged(deps, event, context);
 */
export async function handleAppletChanged(
  deps: EventHandlerDependencies,
  event: AppletChangedEvent,
  context: Pick<EventContext, 'eventId' | 'requestId'>,
): Promise<void> {
  const outcome = await withInbox(deps.db, SUBSCRIPTION, context.eventId, (trx) =>
    applyAppletChange(trx, event),
  );
  deps.logger.debug(
    {
      reqId: context.requestId,
      applet_id: event.applet_id,
      version: event.version,
      change: event.change,
      applied: outcome.processed && outcome.result,
    },
    'applet copy updated',
  );
}

/**
 * `partner-service.changed`: keeps the partner's endpoint and key, once per event and only for a newer
 * `version`. The key comes sealed under the engine's events keys; it is opened and stored sealed under this
 * service's SECRETS_KEYS (one the events keys cannot open throws: retried, then dead-lettered). Logs the
 * slug and version only, never the event.
 *
 * @example
 *   await handlePartnerChanged(deps, event, context);
 */
export async function handlePartnerChanged(
  deps: EventHandlerDependencies,
  event: PartnerServiceChangedEvent,
  context: Pick<EventContext, 'eventId' | 'requestId'>,
): Promise<void> {
  const outcome = await withInbox(deps.db, SUBSCRIPTION, context.eventId, (trx) =>
    applyPartnerChange(
      trx,
      {
        slug: event.slug,
        version: event.version,
        name: event.name,
        api_base_url: event.api_base_url,
        service_key: deps.security.eventKeys.open(
          event.service_key_sealed,
          partnerServiceKeyContext(event.slug),
        ),
      },
      deps.security.keyring,
    ),
  );
  deps.logger.debug(
    {
      reqId: context.requestId,
      service: event.slug,
      version: event.version,
      applied: outcome.processed && outcome.result,
    },
    'partner service updated',
  );
}

/**
 * Thrown (so the event is delivered again after a backoff) when a trigger event lists applets whose local
 * copies are older than the versions it was recorded against: their `applet.changed` is still on its way.
 */
export class AppletCopiesBehindError extends Error {
  constructor(
    event: TriggerEventRecordedEvent,
    readonly behind: readonly AppletCopyBehind[],
  ) {
    super(
      `trigger event ${event.event_id} of ${event.trigger_identity} waits for applet.changed: ${behind
        .map((b) => `applet ${b.applet_id} is at ${b.have ?? 'none'}, needs ${b.need}`)
        .join('; ')}`,
    );
    this.name = 'AppletCopiesBehindError';
  }
}

/**
 * `trigger-event.recorded`: creates one run per enabled applet on the trigger identity (only those the event
 * lists as enabled when it was recorded, once every listed copy is at least the listed version, else it
 * throws {@link AppletCopiesBehindError} and the event comes again) (Postgres first, in
 * the inbox transaction, so a redelivered event creates nothing), then enqueues a job for every run of that
 * trigger event that has not ended, whether created now or by an earlier delivery. If the enqueue fails
 * (Redis down, a crash after the commit), the handler throws or dies, the event is delivered again, finds
 * the inbox row, and enqueues the still pending runs: nothing is lost. A job enqueued twice is harmless (unique
 * key while waiting; the job ignores a finished run and claims before calling). The request id of the
 * publication (or `event-<event id>` without one) follows the run to the partner's `X-Request-ID`.
 *
 * @example
 *   await handleTriggerEvent(deps, event, { eventId, requestId: 'req-1' });
 */
export async function handleTriggerEvent(
  deps: EventHandlerDependencies,
  event: TriggerEventRecordedEvent,
  context: Pick<EventContext, 'eventId' | 'requestId'>,
): Promise<void> {
  const requestId = context.requestId ?? `event-${context.eventId}`;
  const log = deps.logger.child({ reqId: requestId });
  // Topics are separate streams: this event may arrive before the applet.changed it was recorded against.
  const behind = await findAppletCopiesBehind(deps.db, event.applets ?? []);
  if (behind.length > 0) throw new AppletCopiesBehindError(event, behind);
  const outcome = await withInbox(deps.db, SUBSCRIPTION, context.eventId, (trx) =>
    createRunsForEvent(trx, event, requestId),
  );
  const pending = await findUnfinishedRuns(deps.db, event.trigger_identity, event.event_id);
  const enqueued = await deps.enqueue(pending);
  log.info(
    {
      trigger_identity: event.trigger_identity,
      event_id: event.event_id,
      created: outcome.processed ? outcome.result.length : 0,
      redelivered: !outcome.processed,
      pending: pending.length,
      enqueued,
    },
    'trigger event taken in',
  );
}

/**
 * The service's subscriptions (run in the worker): `applet.changed`, `partner-service.changed` and
 * `trigger-event.recorded`, all as subscription `actions`.
 *
 * @example
 *   const service = { ..., events: { publishes: true, subscriptions: actionsSubscriptions } };
 */
export function actionsSubscriptions(ctx: ActionsContext): Subscription<unknown>[] {
  const jobs = actionJobs(ctx);
  const deps: EventHandlerDependencies = {
    db: ctx.db,
    logger: ctx.logger,
    enqueue: (runs) => enqueueRuns(jobs, runs),
    security: partnerSecurity(ctx),
  };
  const options = eventsOptions(ctx);
  return [
    subscribe(
      appletChanged,
      SUBSCRIPTION,
      (event, context) => handleAppletChanged(deps, event, context),
      options,
    ),
    subscribe(
      partnerServiceChanged,
      SUBSCRIPTION,
      (event, context) => handlePartnerChanged(deps, event, context),
      options,
    ),
    subscribe(
      triggerEventRecorded,
      SUBSCRIPTION,
      (event, context) => handleTriggerEvent(deps, event, context),
      options,
    ),
  ] as Subscription<unknown>[];
}
