import { sql, type Kysely } from 'kysely';

/**
 * Security (issue 13):
 * - `partner_services.service_key` becomes `service_key_sealed`: the key sealed with AES-256-GCM under the
 *   service's SECRETS_KEYS. A migration has no keys, so rows from before keep their key in clear until
 *   `run-job rotate-secrets` seals them (run it right after this migration; the README says so); until
 *   then a change that must republish such a partner's key answers 409, and nothing else reads the key.
 * - `partner-service.changed` events now carry the key sealed (`service_key_sealed`): the clear key is
 *   removed from the outbox rows of that topic already written (relayed rows are history only; an unrelayed
 *   one reaches its subscribers without a key and goes to their dead letters: change the partner again).
 * - `api_tokens` gain a name, an optional expiry and the last use, so users can list and revoke them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('partner_services').renameColumn('service_key', 'service_key_sealed').execute();
  // The platform's outbox exists wherever the service runs (events migrations go first), not in a bare round trip.
  await sql`DO $$ BEGIN
    IF to_regclass('platform_event_outbox') IS NOT NULL THEN
      UPDATE platform_event_outbox SET payload = payload - 'service_key'
      WHERE topic = 'partner-service.changed' AND payload ? 'service_key';
    END IF;
  END $$`.execute(db);
  await db.schema
    .alterTable('api_tokens')
    .addColumn('name', 'text', (col) => col.notNull().defaultTo('default'))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .execute();
}

/** Drops the token columns and renames the key column back (the values stay sealed). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('api_tokens')
    .dropColumn('name')
    .dropColumn('expires_at')
    .dropColumn('last_used_at')
    .execute();
  await db.schema.alterTable('partner_services').renameColumn('service_key_sealed', 'service_key').execute();
}
