import { defineTopic, text, type EventOf } from '@ittd/platform';
import { slug, stepFields } from '@ittd/service-api';
import { z } from 'zod';

/** What happened to the applet: created or updated (`saved`), switched on or off, or deleted. */
export const APPLET_CHANGES = ['saved', 'enabled', 'disabled', 'deleted'] as const;

/**
 * `applet.changed`, published by applets in the transaction of every change to an applet: the applet's whole
 * state after the change (event-carried state transfer), so a subscriber keeps its own copy without ever
 * calling applets. `version` grows with every change of one applet (a counter in the applets table): apply
 * an event only when its version is newer than the copy's, since replicas of a subscription may handle two
 * events of one applet out of order. A `deleted` event carries the last state with `enabled: false`.
 * `trigger.trigger_identity` is the Service API's trigger identity; `user.timezone` an IANA zone name.
 *
 * @example
 *   { applet_id: '7', version: 3, change: 'disabled', enabled: false, disabled_reason: 'the last 10 runs failed',
 *     user: { id: '1', timezone: 'Europe/Berlin' },
 *     trigger: { service: 'weather', slug: 'rain_tomorrow', fields: { city: 'Berlin' }, trigger_identity: '9c…' },
 *     action: { service: 'slack', slug: 'post_message', fields: { text: 'Rain in {{City}}' } },
 *     changed_at: '2026-11-30T10:00:00.000Z' }
 */
export const appletChanged = defineTopic(
  'applet.changed',
  z.object({
    applet_id: text().min(1).max(40),
    version: z.number().int().positive(),
    change: z.enum(APPLET_CHANGES),
    enabled: z.boolean(),
    disabled_reason: text().max(1000).nullable(),
    user: z.object({ id: text().min(1).max(40), timezone: text().min(1).max(64) }),
    trigger: z.object({
      service: slug,
      slug,
      fields: stepFields,
      trigger_identity: text().min(1).max(200),
    }),
    action: z.object({ service: slug, slug, fields: stepFields }),
    changed_at: z.iso.datetime(),
  }),
);

/** An `applet.changed` event. */
export type AppletChangedEvent = EventOf<typeof appletChanged>;
