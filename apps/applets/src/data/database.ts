import type { ColumnType, Generated, GeneratedAlways, Kysely } from 'kysely';
import type { StepFields } from '../domain/step-fields';

/** The sealing context of a stored partner service key: binds the sealed value to its row. */
export function partnerServiceKeyContext(slug: string): string {
  return `applets.partner_services.service_key:${slug}`;
}

/**
 * A jsonb column: read as the parsed value, written as a JSON string (so pg never turns an array into a
 * Postgres array by accident).
 */
export type JsonColumn<T> = ColumnType<T, string, string>;

/**
 * `partner_services`: the registry. `service_key_sealed` is the service key sealed under SECRETS_KEYS
 * (context {@link partnerServiceKeyContext}); select it only to publish `partner-service.changed`.
 */
export interface PartnerServicesTable {
  slug: string;
  name: string;
  api_base_url: string;
  service_key_sealed: string;
  /** +1 per change; the `version` of `partner-service.changed`. */
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** `users`: applet owners. Ids are bigint identities, read as strings (pg's int8 parsing). */
export interface UsersTable {
  id: GeneratedAlways<string>;
  name: string;
  /** IANA time zone name (`Europe/Berlin`), sent to partners as `user.timezone`. */
  timezone: Generated<string>;
  created_at: Generated<Date>;
}

/**
 * `api_tokens`: SHA-256 hex of each bearer token, never the token itself; a revoked token's row is deleted.
 * `expires_at` null: never expires. `last_used_at` is updated at most once a minute.
 */
export interface ApiTokensTable {
  id: GeneratedAlways<string>;
  user_id: string;
  token_sha256: string;
  name: Generated<string>;
  expires_at: Date | null;
  last_used_at: Generated<Date | null>;
  created_at: Generated<Date>;
}

/** `applets`: a trigger wired to an action, owned by one user. */
export interface AppletsTable {
  id: GeneratedAlways<string>;
  user_id: string;
  trigger_service_slug: string;
  trigger_slug: string;
  trigger_fields: JsonColumn<StepFields>;
  trigger_identity: string;
  action_service_slug: string;
  action_slug: string;
  action_fields: JsonColumn<StepFields>;
  enabled: Generated<boolean>;
  /** +1 in every UPDATE; the `version` of `applet.changed`. */
  version: Generated<number>;
  /** Why the engine switched the applet off (auto-disable); null otherwise. */
  disabled_reason: Generated<string | null>;
  /** When the applet was last switched on; auto-disable counts only runs recorded after it. */
  enabled_at: Generated<Date>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** `applet_activity`: one row per action run of an applet, from `action-run.finished`. */
export interface AppletActivityTable {
  run_id: string;
  applet_id: string;
  trigger_event_id: string;
  status: 'success' | 'skipped' | 'failed';
  partner_record_id: string | null;
  message: string | null;
  attempts: number;
  /** bigint, read as a string by pg. */
  duration_ms: ColumnType<string, number, number>;
  started_at: ColumnType<Date, Date, Date>;
  finished_at: ColumnType<Date, Date, Date>;
  recorded_at: Generated<Date>;
}

/**
 * The applets service's schema as Kysely sees it; must match `migrations/`.
 *
 * @example
 *   const db: Kysely<DB> = createDatabase<DB>(config.database);
 */
export interface DB {
  partner_services: PartnerServicesTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  applets: AppletsTable;
  applet_activity: AppletActivityTable;
}

/** The database handle every repository function takes; a transaction (`Transaction<DB>`) fits too. */
export type AppletsDatabase = Kysely<DB>;
