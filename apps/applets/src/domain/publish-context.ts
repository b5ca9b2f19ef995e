import type { EventMetrics } from '@ittd/platform';

/**
 * What a change needs besides its data to publish its event: the `X-Request-ID` of the request that caused
 * it (carried as the publication's request id, so one id follows a firing through the engine) and the event
 * counters of the service's registry. Routes build it from `req.id`; the event handler from its context.
 *
 * @example
 *   await updateApplet(db, userId, id, input, { requestId: req.id, metrics });
 */
export interface PublishContext {
  requestId?: string;
  metrics?: EventMetrics;
}
