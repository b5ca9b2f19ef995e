import { sql, type Selectable } from 'kysely';
import type { PartnersTable, TriggerPollerDatabase } from './database';
import { hashServiceKey } from './service-key-hash';

/** A partner as it may leave the service: no service key, no key digest. */
export type PartnerRow = Omit<Selectable<PartnersTable>, 'service_key' | 'service_key_sha256'>;

/** What calling a partner needs, key included: for partner calls only, never for answers or logs. */
export type PartnerEndpoint = Pick<Selectable<PartnersTable>, 'slug' | 'api_base_url' | 'service_key'>;

/** A partner's registry entry: from `partner-service.changed` (with its version) or an operator's PUT. */
export interface PartnerInput {
  slug: string;
  name: string;
  api_base_url: string;
  service_key: string;
}

const publicColumns = ['slug', 'name', 'api_base_url', 'version', 'created_at', 'updated_at'] as const;

/**
 * Applies a `partner-service.changed` event: inserts the partner, or updates it when `version` is newer than
 * the stored one (an older or equal version is ignored: replicas may handle events out of order). Returns
 * whether the row changed. When it did, the partner's failing subscriptions and given-up deletions are due
 * again at once: a new key or URL is what a 401/403 streak was waiting for.
 *
 * @example
 *   const applied = await applyPartnerVersion(trx, { slug: 'weather', name: 'Weather', api_base_url, service_key }, 2);
 */
export async function applyPartnerVersion(
  db: TriggerPollerDatabase,
  input: PartnerInput,
  version: number,
): Promise<boolean> {
  const values = { ...input, service_key_sha256: hashServiceKey(input.service_key), version };
  const row = await db
    .insertInto('partners')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('slug')
        .doUpdateSet({
          name: values.name,
          api_base_url: values.api_base_url,
          service_key: values.service_key,
          service_key_sha256: values.service_key_sha256,
          version: values.version,
          updated_at: sql<Date>`now()`,
        })
        .where('partners.version', '<', version),
    )
    .returning('slug')
    .executeTakeFirst();
  if (row === undefined) return false;
  await retryPartnerNow(db, input.slug);
  return true;
}

/**
 * An operator's create-or-replace of a partner (the admin API): keeps the stored `version`, so the next
 * `partner-service.changed` of applets (a newer version) still replaces it. `created` says which happened.
 *
 * @example
 *   const { partner, created } = await putPartner(db, { slug: 'weather', name: 'Weather', api_base_url, service_key });
 */
export async function putPartner(
  db: TriggerPollerDatabase,
  input: PartnerInput,
): Promise<{ partner: PartnerRow; created: boolean }> {
  const values = { ...input, service_key_sha256: hashServiceKey(input.service_key) };
  const { created, ...partner } = await db
    .insertInto('partners')
    .values(values)
    .onConflict((oc) =>
      oc.column('slug').doUpdateSet({
        name: values.name,
        api_base_url: values.api_base_url,
        service_key: values.service_key,
        service_key_sha256: values.service_key_sha256,
        updated_at: sql<Date>`now()`,
      }),
    )
    // xmax is 0 for a row this statement inserted, the updating transaction's id for an updated one.
    .returning([...publicColumns, sql<boolean>`xmax = 0`.as('created')])
    .executeTakeFirstOrThrow();
  await retryPartnerNow(db, input.slug);
  return { partner, created };
}

/** Makes the partner's failing subscriptions due now and its given-up identity deletions pending again. */
async function retryPartnerNow(db: TriggerPollerDatabase, slug: string): Promise<void> {
  await db
    .updateTable('trigger_subscriptions')
    .set({ next_poll_at: sql<Date>`now()` })
    .where('service_slug', '=', slug)
    .where('consecutive_failures', '>', 0)
    .execute();
  await db
    .updateTable('trigger_identity_deletions')
    .set({ gave_up_at: null, attempts: 0, next_attempt_at: sql<Date>`now()` })
    .where('service_slug', '=', slug)
    .where('gave_up_at', 'is not', null)
    .execute();
}

/**
 * Every partner without its key, by slug.
 *
 * @example
 *   const partners = await listPartners(db);
 */
export async function listPartners(db: TriggerPollerDatabase): Promise<PartnerRow[]> {
  return db.selectFrom('partners').select(publicColumns).orderBy('slug').execute();
}

/**
 * One partner without its key.
 *
 * @example
 *   const partner = await findPartner(db, 'weather');
 */
export async function findPartner(db: TriggerPollerDatabase, slug: string): Promise<PartnerRow | undefined> {
  return db.selectFrom('partners').select(publicColumns).where('slug', '=', slug).executeTakeFirst();
}

/**
 * What calling a partner needs, key included: for the poll and delete jobs only.
 *
 * @example
 *   const endpoint = await findPartnerEndpoint(db, 'weather');
 */
export async function findPartnerEndpoint(
  db: TriggerPollerDatabase,
  slug: string,
): Promise<PartnerEndpoint | undefined> {
  return db
    .selectFrom('partners')
    .select(['slug', 'api_base_url', 'service_key'])
    .where('slug', '=', slug)
    .executeTakeFirst();
}

/**
 * Whether a partner has the service key with this digest: how a notification is authenticated.
 *
 * @example
 *   if (!(await isKnownServiceKey(db, hashServiceKey(key)))) throw new HttpProblem(401);
 */
export async function isKnownServiceKey(
  db: TriggerPollerDatabase,
  serviceKeySha256: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('partners')
    .select('slug')
    .where('service_key_sha256', '=', serviceKeySha256)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
