import { sql, type Selectable } from 'kysely';
import type { AppletsDatabase, PartnerServicesTable } from './database';

/** A registry row as it may leave the service: everything except the sealed `service_key_sealed`. */
export type PartnerServiceRow = Omit<Selectable<PartnerServicesTable>, 'service_key_sealed'>;

/** What registering a partner service stores; the key sealed (`partnerServiceKeyContext`). */
export interface NewPartnerServiceRow {
  slug: string;
  name: string;
  api_base_url: string;
  service_key_sealed: string;
}

const publicColumns = ['slug', 'name', 'api_base_url', 'version', 'created_at', 'updated_at'] as const;

/**
 * Inserts a partner service; returns `undefined` when the slug is already taken, so the caller can answer
 * 409 without parsing a unique-violation error.
 *
 * @example
 *   const row = await insertPartnerService(db, { slug: 'weather', name: 'Weather', api_base_url, service_key_sealed });
 */
export async function insertPartnerService(
  db: AppletsDatabase,
  service: NewPartnerServiceRow,
): Promise<PartnerServiceRow | undefined> {
  return db
    .insertInto('partner_services')
    .values(service)
    .onConflict((oc) => oc.column('slug').doNothing())
    .returning(publicColumns)
    .executeTakeFirst();
}

/** A registry row with its sealed key: only for publishing `partner-service.changed`, never for an answer. */
export type PartnerServiceRowWithKey = Selectable<PartnerServicesTable>;

/** What changing a partner service may set. */
export type PartnerServiceRowPatch = Partial<
  Pick<NewPartnerServiceRow, 'name' | 'api_base_url' | 'service_key_sealed'>
>;

/**
 * Applies a patch to a partner service, bumps `version` (+1) and `updated_at`, and resolves the whole row
 * (with the key, for the event); `undefined` for an unknown slug.
 *
 * @example
 *   const row = await updatePartnerService(trx, 'weather', { service_key_sealed: keyring.seal('sk_new…', context) });
 */
export async function updatePartnerService(
  db: AppletsDatabase,
  slug: string,
  patch: PartnerServiceRowPatch,
): Promise<PartnerServiceRowWithKey | undefined> {
  return db
    .updateTable('partner_services')
    .set((eb) => ({ ...patch, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('slug', '=', slug)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Lists the registry by slug, without service keys.
 *
 * @example
 *   const services = await listPartnerServices(db);
 */
export async function listPartnerServices(db: AppletsDatabase): Promise<PartnerServiceRow[]> {
  return db.selectFrom('partner_services').select(publicColumns).orderBy('slug').execute();
}

/**
 * Returns which of `slugs` exist in the registry, for validating an applet's trigger and action services
 * in one query.
 *
 * @example
 *   const known = await findExistingPartnerServiceSlugs(db, ['weather', 'slack']); // Set { 'weather' }
 */
export async function findExistingPartnerServiceSlugs(
  db: AppletsDatabase,
  slugs: readonly string[],
): Promise<Set<string>> {
  if (slugs.length === 0) return new Set();
  const rows = await db.selectFrom('partner_services').select('slug').where('slug', 'in', slugs).execute();
  return new Set(rows.map((row) => row.slug));
}
