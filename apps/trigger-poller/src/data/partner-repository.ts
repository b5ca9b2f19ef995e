import type { SecretKeyring } from '@ittd/platform';
import { sql, type Selectable } from 'kysely';
import type { PartnersTable, TriggerPollerDatabase } from './database';
import { partnerKeyColumns, partnerKeyContext } from './partner-key-sealing';

/** A partner as it may leave the service: no service key, no key digest. */
export type PartnerRow = Omit<Selectable<PartnersTable>, 'service_key_sealed' | 'service_key_sha256'>;

/** What calling a partner needs, the key opened: for partner calls only, never for answers or logs. */
export interface PartnerEndpoint {
  slug: string;
  api_base_url: string;
  service_key: string;
}

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
 * whether the row changed. The key is stored sealed under `keyring`. When it did, the partner's failing subscriptions and given-up deletions are due
 * again at once: a new key or URL is what a 401/403 streak was waiting for.
 *
 * @example
 *   const applied = await applyPartnerVersion(trx, { slug: 'weather', name: 'Weather', api_base_url, service_key }, 2, keyring);
 */
export async function applyPartnerVersion(
  db: TriggerPollerDatabase,
  input: PartnerInput,
  version: number,
  keyring: SecretKeyring,
): Promise<boolean> {
  const { service_key: serviceKey, ...rest } = input;
  const values = { ...rest, ...partnerKeyColumns(keyring, input.slug, serviceKey), version };
  const row = await db
    .insertInto('partners')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('slug')
        .doUpdateSet({
          name: values.name,
          api_base_url: values.api_base_url,
          service_key_sealed: values.service_key_sealed,
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
 *   const { partner, created } = await putPartner(db, { slug: 'weather', name: 'Weather', api_base_url, service_key }, keyring);
 */
export async function putPartner(
  db: TriggerPollerDatabase,
  input: PartnerInput,
  keyring: SecretKeyring,
): Promise<{ partner: PartnerRow; created: boolean }> {
  const { service_key: serviceKey, ...rest } = input;
  const values = { ...rest, ...partnerKeyColumns(keyring, input.slug, serviceKey) };
  const { created, ...partner } = await db
    .insertInto('partners')
    .values(values)
    .onConflict((oc) =>
      oc.column('slug').doUpdateSet({
        name: values.name,
        api_base_url: values.api_base_url,
        service_key_sealed: values.service_key_sealed,
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
 * What calling a partner needs, the key opened with `keyring`: for the delete job only. Throws
 * `SecretOpenError` for a key the keyring cannot open (a key id missing from SECRETS_KEYS, or a row still
 * in clear before `rotate-secrets`).
 *
 * @example
 *   const endpoint = await findPartnerEndpoint(db, 'weather', keyring);
 */
export async function findPartnerEndpoint(
  db: TriggerPollerDatabase,
  slug: string,
  keyring: SecretKeyring,
): Promise<PartnerEndpoint | undefined> {
  const row = await db
    .selectFrom('partners')
    .select(['slug', 'api_base_url', 'service_key_sealed'])
    .where('slug', '=', slug)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    slug: row.slug,
    api_base_url: row.api_base_url,
    service_key: keyring.open(row.service_key_sealed, partnerKeyContext(row.slug)),
  };
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
