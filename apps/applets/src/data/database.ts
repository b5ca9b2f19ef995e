import type { ColumnType, Generated, GeneratedAlways, Kysely } from 'kysely';
import type { StepFields } from '../domain/step-fields';

/**
 * A jsonb column: read as the parsed value, written as a JSON string (so pg never turns an array into a
 * Postgres array by accident).
 */
export type JsonColumn<T> = ColumnType<T, string, string>;

/** `partner_services`: the registry. `service_key` is a secret: select it only where it is sent out. */
export interface PartnerServicesTable {
  slug: string;
  name: string;
  api_base_url: string;
  service_key: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** `users`: applet owners. Ids are bigint identities, read as strings (pg's int8 parsing). */
export interface UsersTable {
  id: GeneratedAlways<string>;
  name: string;
  created_at: Generated<Date>;
}

/** `api_tokens`: SHA-256 hex of each bearer token, never the token itself. */
export interface ApiTokensTable {
  id: GeneratedAlways<string>;
  user_id: string;
  token_sha256: string;
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
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
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
}

/** The database handle every repository function takes; a transaction (`Transaction<DB>`) fits too. */
export type AppletsDatabase = Kysely<DB>;
