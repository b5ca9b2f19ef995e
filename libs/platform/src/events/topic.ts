import { z } from 'zod';
import { wellFormedJson } from '../validation/well-formed-json';

/** Topic names: lower-case words joined by `.`, `-` or `_` (`applet.saved`), 1 to 100 characters. */
export const TOPIC_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/**
 * A named stream of events of one shape, shared by the publishing service and its subscribers (Encore's
 * `Topic`, a Kafka topic). Define it once, in a module both sides import.
 */
export interface Topic<T> {
  readonly name: string;
  readonly schema: z.ZodType<T>;
}

/** The event type of a topic. */
export type EventOf<P> = P extends Topic<infer T> ? T : never;

/**
 * Thrown by `publish` (nothing inserted) when an event fails its topic's schema or the platform JSON rule
 * ({@link wellFormedJson}: well-formed strings and keys, at most 64 levels deep). `issues` name the fields.
 *
 * @example
 * await publish(trx, orderPlaced, { n: 1.5 }).catch((e) => e.message);
 * // 'event for topic order.placed refused: n: Invalid input: expected int, received number'
 */
export class EventPayloadError extends Error {
  constructor(
    readonly topic: string,
    readonly issues: readonly z.core.$ZodIssue[],
  ) {
    super(
      `event for topic ${topic} refused: ${issues
        .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
    this.name = 'EventPayloadError';
  }
}

/**
 * Defines a topic: a name (one Redis Stream) and the zod schema every event must pass before it is stored.
 *
 * @param name lower-case, {@link TOPIC_NAME_PATTERN}; throws otherwise
 * @param schema the event's shape; events are stored as JSON, so use JSON-safe types
 * @example
 * export const appletSaved = defineTopic('applet.saved', z.object({ appletId: z.string(), userId: z.string() }));
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto('applets').values(row).execute();
 *   await publish(trx, appletSaved, { appletId: row.id, userId: row.user_id });
 * });
 */
export function defineTopic<T>(name: string, schema: z.ZodType<T>): Topic<T> {
  if (!TOPIC_NAME_PATTERN.test(name))
    throw new Error(`topic name ${JSON.stringify(name)} must match ${TOPIC_NAME_PATTERN.source}`);
  return Object.freeze({ name, schema });
}

/**
 * Checks an event against its topic: the platform JSON rule first (so nothing unstorable reaches the schema),
 * then the topic's schema. Returns the parsed event; throws {@link EventPayloadError}.
 *
 * @example
 * const event = parseEvent(appletSaved, JSON.parse(fields.data)); // throws EventPayloadError if it no longer fits
 */
export function parseEvent<T>(topic: Topic<T>, value: unknown): T {
  const json = wellFormedJson.safeParse(value);
  if (!json.success) throw new EventPayloadError(topic.name, json.error.issues);
  const parsed = topic.schema.safeParse(value);
  if (!parsed.success) throw new EventPayloadError(topic.name, parsed.error.issues);
  return parsed.data;
}
