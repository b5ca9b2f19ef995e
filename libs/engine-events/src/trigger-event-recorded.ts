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
 * `applets` lists the applets that were enabled on the trigger identity when the event was recorded, with
 * the `applet.changed` version trigger-poller had applied: the applets this event may fire. A subscriber
 * keeping its own applet copies (actions) waits, by failing the delivery so it comes again, until each copy is
 * at least that version: topics are separate streams, so its `applet.changed` backlog may lag behind this
 * event (a restart, a slow consumer), and matching against an older copy would drop the firing of an applet
 * just created or enabled. An applet enabled only after the event was recorded is not listed and does not
 * fire for it. Absent in events from before the field existed: then every enabled copy fires.
 *
 * @example
 *   { trigger_identity: '9c…', service: 'weather', trigger: 'rain_tomorrow', event_id: 'evt_42',
 *     ingredients: { City: 'Berlin', CreatedAt: '2026-11-30T09:00:00Z' },
 *     occurred_at: '2026-11-30T09:00:00.000Z', recorded_at: '2026-11-30T09:00:01.000Z',
 *     applets: [{ applet_id: '7', version: 3 }] }
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
    applets: z
      .array(z.object({ applet_id: text().min(1).max(40), version: z.number().int().positive() }))
      .max(10_000)
      .optional(),
  }),
);

/** A `trigger-event.recorded` event. */
export type TriggerEventRecordedEvent = EventOf<typeof triggerEventRecorded>;
