import { sql, type Kysely } from 'kysely';

/**
 * Partners: one row per partner service (slug), kept from applets' `partner-service.changed` (or by an
 * operator), holding the API base URL and the service key that every call to it uses, so a key rotates with
 * one change instead of one per subscription. `service_key_sha256` (indexed) is how a realtime notification's
 * key is matched. `version` is the event's: an older event never overwrites a newer row (0: not from an event).
 *
 * Existing subscriptions keep working: each `service_slug` becomes a partner with the base URL and key of
 * its most recently updated subscription (name = slug, version 0, so the first partner-service.changed
 * replaces it). Subscriptions of one slug that carried another URL or key now use the partner's (an operator
 * who had given one slug several keys re-PUTs the partner: see the README).
 *
 * The subscriptions lose their copies of the URL and key and gain what polling a trigger identity on a
 * schedule needs: `next_poll_at` (the schedule takes due rows by it), the failure streak
 * (`consecutive_failures`, `last_error`, `last_failed_at`), `baselined_at` (null until the first successful
 * poll recorded what the partner already had: see the README) and `managed_by` (`operator`: PUT by the admin
 * API; `applets`: kept from applet.changed).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('partners')
    .addColumn('slug', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('api_base_url', 'text', (col) => col.notNull())
    .addColumn('service_key', 'text', (col) => col.notNull())
    .addColumn('service_key_sha256', 'text', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('partners_service_key_sha256_idx')
    .on('partners')
    .column('service_key_sha256')
    .execute();
  await sql`
    INSERT INTO partners (slug, name, api_base_url, service_key, service_key_sha256, version)
    SELECT DISTINCT ON (service_slug) service_slug, service_slug, api_base_url, service_key, service_key_sha256, 0
    FROM trigger_subscriptions
    ORDER BY service_slug, updated_at DESC, trigger_identity`.execute(db);

  await db.schema
    .alterTable('trigger_subscriptions')
    .addColumn('managed_by', 'text', (col) => col.notNull().defaultTo('operator'))
    .addColumn('baselined_at', 'timestamptz')
    .addColumn('next_poll_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('consecutive_failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('last_failed_at', 'timestamptz')
    .execute();
  // A subscription polled before this migration has recorded what its partner had: it is baselined.
  await sql`UPDATE trigger_subscriptions SET baselined_at = last_polled_at`.execute(db);
  await db.schema.dropIndex('trigger_subscriptions_key_user_idx').execute();
  await db.schema.dropIndex('trigger_subscriptions_last_polled_at_idx').execute();
  await db.schema
    .alterTable('trigger_subscriptions')
    .dropColumn('api_base_url')
    .dropColumn('service_key')
    .dropColumn('service_key_sha256')
    .execute();
  await db.schema
    .createIndex('trigger_subscriptions_service_user_idx')
    .on('trigger_subscriptions')
    .columns(['service_slug', 'user_id'])
    .execute();
  await db.schema
    .createIndex('trigger_subscriptions_next_poll_at_idx')
    .on('trigger_subscriptions')
    .column('next_poll_at')
    .execute();
}

/** Puts each partner's URL and key back on its subscriptions (a subscription without partner gets none: deleted). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('trigger_subscriptions_next_poll_at_idx').execute();
  await db.schema.dropIndex('trigger_subscriptions_service_user_idx').execute();
  await db.schema
    .alterTable('trigger_subscriptions')
    .addColumn('api_base_url', 'text')
    .addColumn('service_key', 'text')
    .addColumn('service_key_sha256', 'text')
    .execute();
  await sql`
    UPDATE trigger_subscriptions s
    SET api_base_url = p.api_base_url, service_key = p.service_key, service_key_sha256 = p.service_key_sha256
    FROM partners p WHERE p.slug = s.service_slug`.execute(db);
  await sql`DELETE FROM trigger_subscriptions WHERE service_key IS NULL`.execute(db);
  for (const column of ['api_base_url', 'service_key', 'service_key_sha256']) {
    await sql`ALTER TABLE trigger_subscriptions ALTER COLUMN ${sql.ref(column)} SET NOT NULL`.execute(db);
  }
  await db.schema
    .alterTable('trigger_subscriptions')
    .dropColumn('managed_by')
    .dropColumn('baselined_at')
    .dropColumn('next_poll_at')
    .dropColumn('consecutive_failures')
    .dropColumn('last_error')
    .dropColumn('last_failed_at')
    .execute();
  await db.schema
    .createIndex('trigger_subscriptions_key_user_idx')
    .on('trigger_subscriptions')
    .columns(['service_key_sha256', 'user_id'])
    .execute();
  await sql`CREATE INDEX trigger_subscriptions_last_polled_at_idx
    ON trigger_subscriptions (last_polled_at NULLS FIRST)`.execute(db);
  await db.schema.dropTable('partners').execute();
}
