import { defineTopic, text, type EventOf } from '@ittd/platform';
import { slug } from '@ittd/service-api';
import { z } from 'zod';

/** How an action run ended: the partner did it, skipped it (400 `SKIP`), or it failed for good. */
export const ACTION_RUN_STATUSES = ['success', 'skipped', 'failed'] as const;

/**
 * `action-run.finished`, published by actions in the transaction that records the end of an action run (one
 * applet, one trigger event): the activity record. applets keeps the user-facing activity log from it and
 * disables an applet whose last runs all failed. `run_id` is unique per (applet, trigger event), so a
 * redelivered event updates the same activity entry. `partner_record_id` is the id the partner returned
 * (`data[0].id`) on success; `message` the SKIP message or the failure's reason; `duration_ms` from the first
 * attempt's start to the end; times are ISO 8601.
 *
 * @example
 *   { run_id: '0193…', applet_id: '7', user_id: '1', trigger_identity: '9c…', trigger_event_id: 'evt_42',
 *     action: { service: 'slack', slug: 'post_message' }, status: 'success', partner_record_id: 'msg_9',
 *     message: null, attempts: 1, duration_ms: 84,
 *     started_at: '2026-11-30T09:00:01.000Z', finished_at: '2026-11-30T09:00:01.084Z' }
 */
export const actionRunFinished = defineTopic(
  'action-run.finished',
  z.object({
    run_id: text().min(1).max(100),
    applet_id: text().min(1).max(40),
    user_id: text().min(1).max(40),
    trigger_identity: text().min(1).max(200),
    trigger_event_id: text().min(1).max(500),
    action: z.object({ service: slug, slug }),
    status: z.enum(ACTION_RUN_STATUSES),
    partner_record_id: text().max(500).nullable(),
    message: text().max(2000).nullable(),
    attempts: z.number().int().nonnegative(),
    duration_ms: z.number().int().nonnegative(),
    started_at: z.iso.datetime(),
    finished_at: z.iso.datetime(),
  }),
);

/** An `action-run.finished` event. */
export type ActionRunFinishedEvent = EventOf<typeof actionRunFinished>;
