import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { type Migrations, runMigrations } from '../db/migrator';

/** The outbox table: events written with the business change, until the relay has put them on Redis. */
export const OUTBOX_TABLE = 'platform_event_outbox';
/** The inbox table: (subscription, event id) pairs a handler has processed ({@link withInbox}). */
export const INBOX_TABLE = 'platform_event_inbox';

/** The bookkeeping name of the events migrations (table `platform_events_migration`). */
export const EVENTS_MIGRATION_SERVICE = 'platform_events';

/** The platform's event tables as Kysely sees them (for services that type them in their own `DB`). */
export interface EventsTables {
  platform_event_outbox: {
    id: string; // bigint, as text
    event_id: string;
    topic: string;
    payload: unknown;
    request_id: string | null;
    tx_id: string; // xid8, as text
    published_at: Date;
    relayed_at: Date | null;
    stream_id: string | null;
  };
  platform_event_inbox: { subscription: string; event_id: string; processed_at: Date };
}

/**
 * The platform's event tables: `platform_event_outbox` (one row per published event; `tx_id` is the
 * publishing transaction's id, which orders the relay) and `platform_event_inbox`. Apply them with
 * {@link runEventsMigrations} (their own bookkeeping table), not merged into a service's record: Kysely
 * refuses a record whose applied names are not its first ones in order, which a merged platform name would
 * break as soon as the service adds a migration that sorts before it.
 *
 * @example
 * const trip = await migrationRoundTrip(eventsMigrations, database.url);
 * trip.afterUp; // ['platform_event_inbox', 'platform_event_outbox']
 */
export const eventsMigrations: Migrations = {
  'platform-events-0001-outbox-inbox': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table platform_event_outbox (
          id bigint generated always as identity primary key,
          event_id uuid not null unique,
          topic text not null,
          payload jsonb not null,
          request_id text,
          tx_id xid8 not null default pg_current_xact_id(),
          published_at timestamptz not null default now(),
          relayed_at timestamptz,
          stream_id text
        )`.execute(db);
      await sql`create index platform_event_outbox_pending on platform_event_outbox (tx_id, id) where relayed_at is null`.execute(
        db,
      );
      await sql`create index platform_event_outbox_relayed on platform_event_outbox (relayed_at) where relayed_at is not null`.execute(
        db,
      );
      await sql`
        create table platform_event_inbox (
          subscription text not null,
          event_id uuid not null,
          processed_at timestamptz not null default now(),
          primary key (subscription, event_id)
        )`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table platform_event_inbox`.execute(db);
      await sql`drop table platform_event_outbox`.execute(db);
    },
  },
};

/**
 * Applies the platform's event migrations with their own bookkeeping table (`platform_events_migration`)
 * and advisory lock, so their names never clash or interleave with a service's `0001-...` ones. Run it
 * next to the service's own migrations (the `migrate` command, or tests); it is idempotent.
 *
 * @example
 * await runEventsMigrations(database.db, logger);
 * await runMigrations(database.db, { service: 'applets', migrations, logger });
 */
export async function runEventsMigrations<DB>(db: Kysely<DB>, logger?: Logger): Promise<string[]> {
  return runMigrations(db, { service: EVENTS_MIGRATION_SERVICE, migrations: eventsMigrations, logger });
}
