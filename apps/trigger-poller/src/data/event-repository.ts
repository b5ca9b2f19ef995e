import type { Selectable } from 'kysely';
import type { TriggerEventsTable, TriggerPollerDatabase } from './database';

/** A stored trigger event. */
export type TriggerEventRow = Omit<Selectable<TriggerEventsTable>, 'id'>;

/** One event as a partner returned it: its `meta.id`, its time and the whole object. */
export interface ReceivedEvent {
  eventId: string;
  timestamp: Date;
  payload: Record<string, unknown>;
}

/**
 * Stores the events not seen yet for a trigger identity (`ON CONFLICT DO NOTHING` on the event id) and
 * returns the ids that were new, so a poll repeated after a crash records nothing twice.
 *
 * @example
 *   const newIds = await insertNewEvents(db, 'ti_1', events); // ['evt_3'] if evt_1, evt_2 were known
 */
export async function insertNewEvents(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
  events: readonly ReceivedEvent[],
): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = await db
    .insertInto('trigger_events')
    .values(
      events.map((event) => ({
        trigger_identity: triggerIdentity,
        event_id: event.eventId,
        payload: JSON.stringify(event.payload),
        event_timestamp: event.timestamp,
      })),
    )
    .onConflict((oc) => oc.columns(['trigger_identity', 'event_id']).doNothing())
    .returning('event_id')
    .execute();
  return rows.map((row) => row.event_id);
}

/**
 * A trigger identity's latest events: last received first, then newest event time first.
 *
 * @example
 *   const events = await listRecentEvents(db, 'ti_1', 20);
 */
export async function listRecentEvents(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
  limit: number,
): Promise<TriggerEventRow[]> {
  return db
    .selectFrom('trigger_events')
    .select(['trigger_identity', 'event_id', 'payload', 'event_timestamp', 'received_at'])
    .where('trigger_identity', '=', triggerIdentity)
    .orderBy('received_at', 'desc')
    .orderBy('event_timestamp', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
