import type { ColumnType, Generated, GeneratedAlways, Kysely } from 'kysely';

/** JSON stored in `jsonb`: written as a JSON string, read back parsed. */
export type Json = ColumnType<unknown, string, string>;

/** `users`: the sandbox's users; their bearer tokens are derived, not stored (see access-token.ts). */
export interface UsersTable {
  id: string;
  name: string;
  created_at: Generated<Date>;
}

/** `items`: the events of the `new_item` trigger. Ids are bigint identities, read as strings. */
export interface ItemsTable {
  id: GeneratedAlways<string>;
  list: string;
  title: string;
  description: Generated<string>;
  created_at: Generated<Date>;
}

/** `trigger_identities`: every identity the engine polled, until it DELETEs it. */
export interface TriggerIdentitiesTable {
  trigger_identity: string;
  trigger_slug: string;
  trigger_fields: Json;
  user_id: string | null;
  first_polled_at: Generated<Date>;
  last_polled_at: Generated<Date>;
}

/** `action_records`: every action call answered 200, with the request body as received. */
export interface ActionRecordsTable {
  id: GeneratedAlways<string>;
  action_slug: string;
  request: Json;
  request_id: string;
  user_id: string | null;
  received_at: Generated<Date>;
}

/** `faults`: the one row of faults set at run time (none: the configured ones apply). */
export interface FaultsTable {
  id: number;
  faults: Json;
  fail_next: Generated<number>;
  updated_at: Generated<Date>;
}

/** The tables of the partner-sandbox database, for Kysely. */
export interface DB {
  users: UsersTable;
  items: ItemsTable;
  trigger_identities: TriggerIdentitiesTable;
  action_records: ActionRecordsTable;
  faults: FaultsTable;
}

/** A Kysely handle on the partner-sandbox database. */
export type PartnerSandboxDatabase = Kysely<DB>;
