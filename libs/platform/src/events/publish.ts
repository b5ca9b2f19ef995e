import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { EventMetrics } from './event-metrics';
import { ILL_FORMED_TEXT_REASON, isWellFormedText } from '../validation/well-formed-text';
import { EventPayloadError, parseEvent, type Topic } from './topic';

/** Options of {@link publish}. */
export interface PublishOptions {
  /** The request id that caused the event (`X-Request-ID`), carried to subscribers for log correlation. */
  requestId?: string;
  /** Counts `events_published_total`. */
  metrics?: EventMetrics;
}

/**
 * Publishes an event in the caller's transaction: validates it ({@link parseEvent}: the platform JSON rule
 * and the topic's schema; throws `EventPayloadError` before anything is written) and inserts it into
 * `platform_event_outbox` with a new event id. The event exists if and only if the transaction commits; the
 * relay then puts it on the topic's Redis stream. Pass a Kysely `Transaction` (a plain `Kysely` would publish
 * outside any business change, which is allowed but loses the point).
 *
 * @returns the event id (a UUID), the same one every subscriber's handler gets
 * @example
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable('applets').set({ enabled: true }).where('id', '=', id).execute();
 *   await publish(trx, appletEnabled, { appletId: id }, { requestId: req.id });
 * });
 */
export async function publish<T>(
  trx: Transaction<any> | Kysely<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  topic: Topic<T>,
  event: T,
  options: PublishOptions = {},
): Promise<string> {
  const data = parseEvent(topic, event);
  if (options.requestId !== undefined && !isWellFormedText(options.requestId))
    throw new EventPayloadError(topic.name, [
      { code: 'custom', path: ['requestId'], message: ILL_FORMED_TEXT_REASON, input: options.requestId },
    ]);
  const eventId = randomUUID();
  await sql`
    insert into platform_event_outbox (event_id, topic, payload, request_id)
    values (${eventId}, ${topic.name}, ${JSON.stringify(data)}::jsonb, ${options.requestId ?? null})`.execute(
    trx,
  );
  options.metrics?.published.inc({ topic: topic.name });
  return eventId;
}
