import { defineTopic, text, type EventOf } from '@ittd/platform';
import { slug } from '@ittd/service-api';
import { z } from 'zod';

/**
 * `trigger-event.recorded`, published by trigger-poller in the transaction that records a partner trigger
 * event it had not seen for the trigger identity (never for the baseline of a first poll). `event_id` is the
 * partner's `meta.id`; `ingredients` the event's other keys as the partner sent them (Service API
 * `TriggerEvent`), what `{{Ingredient}}` placeholders are filled from; `occurred_at` its `meta.timestamp`.
 * The platform's event id (the outbox row's) identifies the publication; `(trigger_identity, event_id)`
 * identifies the partner event. The `X-Request-ID` of the poll (or of the realtime notification that caused
 * it) travels as the publication's request id.
 *
 * @example
 *   { trigger_identity: '9c…', service: 'weather', trigger: 'rain_tomorrow', event_id: 'evt_42',
 *     ingredients: { City: 'Berlin', CreatedAt: '2026-11-30T09:00:00Z' },
 *     occurred_at: '2026-11-30T09:00:00.000Z', recorded_at: '2026-11-30T09:00:01.000Z' }
 */
export const triggerEventRecorded = defineTopic(
  'trigger-event.recorded',
  z.object({
    trigger_identity: text().min(1).max(200),
    service: slug,
    trigger: slug,
    event_id: text().min(1).max(500),
    ingredients: z.record(z.string(), z.unknown()),
    occurred_at: z.iso.datetime(),
    recorded_at: z.iso.datetime(),
  }),
);

/** A `trigger-event.recorded` event. */
export type TriggerEventRecordedEvent = EventOf<typeof triggerEventRecorded>;
