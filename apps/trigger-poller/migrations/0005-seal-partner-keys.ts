import type { Kysely } from 'kysely';

/**
 * Security (issue 13): `partners.service_key` becomes `service_key_sealed`, the key sealed with AES-256-GCM
 * under the service's SECRETS_KEYS (`service_key_sha256` stays: notifications are matched by it). A
 * migration has no keys, so rows from before keep their key in clear until `run-job rotate-secrets` seals
 * them (run it right after this migration; until then calls to such a partner fail and are retried).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its point in history
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('partners').renameColumn('service_key', 'service_key_sealed').execute();
}

/** Renames the column back (the values stay sealed). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('partners').renameColumn('service_key_sealed', 'service_key').execute();
}
