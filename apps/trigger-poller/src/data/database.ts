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
 * `partners`: one row per partner service, kept from `partner-service.changed` (or PUT by an operator).
 * `service_key_sealed` is the service key sealed under SECRETS_KEYS (`partnerKeyContext`): select it only to
 * call the partner; `service_key_sha256` is what notifications are matched by. `version` is the newest applied event's (0: written by an operator or a migration).
 */
export interface PartnersTable {
  slug: string;
  name: string;
  api_base_url: string;
  service_key_sealed: string;
  service_key_sha256: string;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** Who keeps a subscription: an operator (admin API) or the applets' events. */
export type SubscriptionManager = 'operator' | 'applets';

/**
 * `trigger_subscriptions`: the trigger identities polled, each with its partner (`service_slug` ->
 * `partners.slug`, no key copied here), the request fields and its polling state: `next_poll_at` (the schedule
 * takes rows due by it), the failure streak, and `baselined_at` (null until the first successful poll).
 */
export interface TriggerSubscriptionsTable {
  trigger_identity: string;
  service_slug: string;
  trigger_slug: string;
  trigger_fields: JsonColumn<TriggerFields>;
  user_id: string;
  user_timezone: string;
  managed_by: Generated<SubscriptionManager>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  last_polled_at: Date | null;
  baselined_at: Date | null;
  next_poll_at: Generated<Date>;
  consecutive_failures: Generated<number>;
  last_error: string | null;
  last_failed_at: Date | null;
}

/** `applet_triggers`: the copy of each applet's trigger, from `applet.changed` (newest `version` applied). */
export interface AppletTriggersTable {
  applet_id: string;
  version: number;
  trigger_identity: string;
  enabled: boolean;
  deleted: Generated<boolean>;
  service_slug: string;
  trigger_slug: string;
  trigger_fields: JsonColumn<TriggerFields>;
  user_id: string;
  user_timezone: string;
  updated_at: Generated<Date>;
}

/** `trigger_identity_deletions`: partner DELETEs of trigger identities still to be sent (see the delete job). */
export interface TriggerIdentityDeletionsTable {
  trigger_identity: string;
  service_slug: string;
  trigger_slug: string;
  request_id: string | null;
  requested_at: Generated<Date>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  last_error: string | null;
  gave_up_at: Date | null;
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
  partners: PartnersTable;
  trigger_subscriptions: TriggerSubscriptionsTable;
  trigger_events: TriggerEventsTable;
  applet_triggers: AppletTriggersTable;
  trigger_identity_deletions: TriggerIdentityDeletionsTable;
}

/** The database handle every repository function takes; a transaction (`Transaction<DB>`) fits too. */
export type TriggerPollerDatabase = Kysely<DB>;
