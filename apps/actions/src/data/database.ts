import type { StepFields } from '@ittd/service-api';
import type { ColumnType, Generated, GeneratedAlways, Kysely } from 'kysely';

/**
 * A jsonb column: read as the parsed value, written as a JSON string (so pg never turns an array into a
 * Postgres array by accident).
 */
export type JsonColumn<T> = ColumnType<T, string, string>;

/** `applets`: the local copy of an applet, from `applet.changed` (see migration 0001). */
export interface AppletsTable {
  applet_id: string;
  version: number;
  enabled: boolean;
  deleted: Generated<boolean>;
  user_id: string;
  user_timezone: string;
  trigger_identity: string;
  action_service: string;
  action_slug: string;
  action_fields: JsonColumn<StepFields>;
  updated_at: Generated<Date>;
}

/**
 * `partner_services`: from `partner-service.changed`; `service_key_sealed` is the key sealed under
 * SECRETS_KEYS (`partnerKeyContext`), opened only to call the partner.
 */
export interface PartnerServicesTable {
  slug: string;
  version: number;
  name: string;
  api_base_url: string;
  service_key_sealed: string;
  updated_at: Generated<Date>;
}

/** Where an action run is: waiting or running (`pending`), or how it ended. */
export type ActionRunStatus = 'pending' | 'success' | 'skipped' | 'failed';

/** `action_runs`: one per (applet, trigger identity, trigger event) (see migration 0003). */
export interface ActionRunsTable {
  id: Generated<string>;
  seq: GeneratedAlways<string>;
  applet_id: string;
  user_id: string;
  user_timezone: string;
  trigger_identity: string;
  trigger_event_id: string;
  ingredients: JsonColumn<Record<string, unknown>>;
  action_service: string;
  action_slug: string;
  action_fields: JsonColumn<StepFields>;
  request_id: string;
  status: Generated<ActionRunStatus>;
  partner_record_id: string | null;
  message: string | null;
  attempts: Generated<number>;
  duration_ms: number | null;
  created_at: Generated<Date>;
  started_at: Date | null;
  finished_at: Date | null;
  claimed_until: Date | null;
}

/**
 * The actions schema as Kysely sees it; must match `migrations/`.
 *
 * @example
 *   const db: Kysely<DB> = ctx.db;
 */
export interface DB {
  applets: AppletsTable;
  partner_services: PartnerServicesTable;
  action_runs: ActionRunsTable;
}

/** The database handle every repository function takes; a transaction (`Transaction<DB>`) fits too. */
export type ActionsDatabase = Kysely<DB>;
