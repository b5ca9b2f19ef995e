import { HttpProblem } from '@ittd/platform';
import { z } from 'zod';
import type { PartnerSandboxDatabase } from '../data/database';
import { listItems } from '../data/item-repository';
import { CLOCK_INTERVALS, CLOCK_TICK, LISTS, NEW_ITEM } from './sandbox-catalog';
import { MAX_EVENTS } from './service-api-requests';

/** A trigger event as the Service API's `TriggerEvent`: ingredients and `meta`. */
export interface TriggerEvent {
  meta: { id: string; timestamp: number };
  [ingredient: string]: string | { id: string; timestamp: number };
}

const optionValues = (options: readonly { value: string }[]): [string, ...string[]] =>
  options.map((option) => option.value) as [string, ...string[]];

/** The trigger fields of each trigger; unknown extra fields are ignored. */
const triggerFields = {
  [NEW_ITEM]: z.object({ list: z.enum(optionValues(LISTS)) }),
  [CLOCK_TICK]: z.object({ interval_minutes: z.enum(optionValues(CLOCK_INTERVALS)) }),
};

/**
 * The events of a trigger for its fields, newest first, at most `limit` (and {@link MAX_EVENTS}):
 *
 * - `new_item`: the items of the `list`, made through the control API (or the `add_item` action); `meta.id`
 *   is `item-<id>`, ingredients `title`, `description`, `list`, `created_at` (ISO 8601).
 * - `clock_tick`: one event per `interval_minutes` boundary (UTC), computed from the clock, so it always has
 *   events and every replica answers the same; `meta.id` is `tick-<minutes>-<unix seconds>`.
 *
 * @throws HttpProblem 404 for an unknown trigger, 400 naming the invalid `triggerFields.<slug>`.
 * @example
 *   const events = await triggerEvents(db, 'new_item', { list: 'inbox' }, 50, new Date());
 */
export async function triggerEvents(
  db: PartnerSandboxDatabase,
  triggerSlug: string,
  fields: Record<string, unknown>,
  limit: number,
  now: Date,
): Promise<TriggerEvent[]> {
  const count = Math.min(limit, MAX_EVENTS);
  if (triggerSlug === NEW_ITEM) {
    const { list } = parseFields(triggerFields[NEW_ITEM], fields);
    const items = await listItems(db, list, count);
    return items.map((item) => ({
      title: item.title,
      description: item.description,
      list: item.list,
      created_at: item.createdAt.toISOString(),
      meta: { id: `item-${item.id}`, timestamp: Math.floor(item.createdAt.getTime() / 1000) },
    }));
  }
  if (triggerSlug === CLOCK_TICK) {
    const { interval_minutes: minutes } = parseFields(triggerFields[CLOCK_TICK], fields);
    const step = Number(minutes) * 60;
    const latest = Math.floor(now.getTime() / 1000 / step) * step;
    return Array.from({ length: count }, (_, index) => {
      const timestamp = latest - index * step;
      return {
        ticked_at: new Date(timestamp * 1000).toISOString(),
        interval_minutes: minutes,
        meta: { id: `tick-${minutes}-${timestamp}`, timestamp },
      };
    });
  }
  throw new HttpProblem(404, { detail: `There is no trigger ${triggerSlug}.` });
}

function parseFields<S extends z.ZodType>(schema: S, fields: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(fields);
  if (parsed.success) return parsed.data;
  throw new HttpProblem(400, {
    detail: 'The trigger fields are invalid.',
    errors: parsed.error.issues.map((issue) => ({
      name: ['triggerFields', ...issue.path.map(String)].join('.'),
      reason: issue.message,
    })),
  });
}

/** Whether `triggerSlug` is one of the sandbox's triggers. */
export function isTrigger(triggerSlug: string): boolean {
  return triggerSlug === NEW_ITEM || triggerSlug === CLOCK_TICK;
}
