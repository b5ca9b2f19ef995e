import type { StepFields } from '@ittd/service-api';
import type { ColumnType, Generated, GeneratedAlways, Kysely } from 'kysely';

/**
 * A jsonb column: read as the parsed value, written as a JSON string (so pg never turns an array into a
 * Postgres array by accident).
 */
export type JsonColumn<T> = ColumnType<T, string, string>;

/** Trigger field slug -> value (the Service API's `StepFields`). */
export type TriggerFields = StepFields;

/**
 * `trigger_subscriptions`: what to poll and how. `service_key` is a secret: select it only to call the
 * partner; `service_key_sha256` is what notifications are matched by.
 */
export interface TriggerSubscriptionsTable {
  trigger_identity: string;
  service_slug: string;
  api_base_url: string;
  service_key: string;
  service_key_sha256: string;
  trigger_slug: string;
  trigger_fields: JsonColumn<TriggerFields>;
  user_id: string;
  user_timezone: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  last_polled_at: Date | null;
}

/** `trigger_events`: each partner event once per trigger identity; `payload` is the event as received. */
export interface TriggerEventsTable {
  id: GeneratedAlways<string>;
  trigger_identity: string;
  event_id: string;
  payload: JsonColumn<Record<string, unknown>>;
  event_timestamp: Date;
  received_at: Generated<Date>;
}

/**
 * The trigger poller's schema as Kysely sees it; must match `migrations/`.
 *
 * @example
 *   const db: Kysely<DB> = ctx.db;
 */
export interface DB {
  trigger_subscriptions: TriggerSubscriptionsTable;
  trigger_events: TriggerEventsTable;
}

/** The database handle every repository function takes; a transaction (`Transaction<DB>`) fits too. */
export type TriggerPollerDatabase = Kysely<DB>;
