import type { SecretKeyring } from '@ittd/platform';
import { sql } from 'kysely';
import { partnerKeyContext } from '../partner/partner-key-context';
import type { ActionsDatabase } from './database';

/** What calling a partner needs, the key opened: for the action-run job only, never for an answer or a log. */
export interface PartnerEndpoint {
  slug: string;
  api_base_url: string;
  service_key: string;
}

/** A partner as `partner-service.changed` gives it, the key opened (from the event's sealed one). */
export interface PartnerChange {
  slug: string;
  version: number;
  name: string;
  api_base_url: string;
  service_key: string;
}

/**
 * Applies a `partner-service.changed` event: inserts the partner, or overwrites it when the event's
 * `version` is newer (older or equal versions are ignored). The key is stored sealed under `keyring`.
 * Resolves whether the row changed.
 *
 * @example
 *   await applyPartnerChange(trx, { slug, version, name, api_base_url, service_key }, keyring);
 */
export async function applyPartnerChange(
  db: ActionsDatabase,
  event: PartnerChange,
  keyring: SecretKeyring,
): Promise<boolean> {
  const result = await db
    .insertInto('partner_services')
    .values({
      slug: event.slug,
      version: event.version,
      name: event.name,
      api_base_url: event.api_base_url,
      service_key_sealed: keyring.seal(event.service_key, partnerKeyContext(event.slug)),
    })
    .onConflict((oc) =>
      oc
        .column('slug')
        .doUpdateSet({
          version: (eb) => eb.ref('excluded.version'),
          name: (eb) => eb.ref('excluded.name'),
          api_base_url: (eb) => eb.ref('excluded.api_base_url'),
          service_key_sealed: (eb) => eb.ref('excluded.service_key_sealed'),
          updated_at: sql<Date>`now()`,
        })
        .where('partner_services.version', '<', (eb) => eb.ref('excluded.version')),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/**
 * The endpoint and key (opened with `keyring`) of a partner service; undefined when no
 * `partner-service.changed` came for it yet. Throws `SecretOpenError` for a key the keyring cannot open.
 *
 * @example
 *   const partner = await findPartnerEndpoint(db, 'slack', keyring);
 */
export async function findPartnerEndpoint(
  db: ActionsDatabase,
  slug: string,
  keyring: SecretKeyring,
): Promise<PartnerEndpoint | undefined> {
  const row = await db
    .selectFrom('partner_services')
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
