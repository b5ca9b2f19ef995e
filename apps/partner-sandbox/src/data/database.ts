import type { Generated, GeneratedAlways, Kysely } from 'kysely';

/** `notes`: the example table. Ids are bigint identities, read as strings (pg's int8 parsing). */
export interface NotesTable {
  id: GeneratedAlways<string>;
  text: string;
  created_at: Generated<Date>;
}

/** The tables of the partner-sandbox database, for Kysely. */
export interface DB {
  notes: NotesTable;
}

/** A Kysely handle on the partner-sandbox database. */
export type PartnerSandboxDatabase = Kysely<DB>;
