import type { PartnerServiceChangedEvent } from '@ittd/engine-events';
import { sql, type Selectable } from 'kysely';
import type { ActionsDatabase, PartnerServicesTable } from './database';

/** What calling a partner needs, key included: for the action-run job only, never for an answer or a log. */
export type PartnerEndpoint = Pick<Selectable<PartnerServicesTable>, 'slug' | 'api_base_url' | 'service_key'>;

/**
 * Applies a `partner-service.changed` event: inserts the partner, or overwrites it when the event's
 * `version` is newer (older or equal versions are ignored). Resolves whether the row changed.
 *
 * @example
 *   await applyPartnerChange(trx, event);
 */
export async function applyPartnerChange(
  db: ActionsDatabase,
  event: PartnerServiceChangedEvent,
): Promise<boolean> {
  const result = await db
    .insertInto('partner_services')
    .values({
      slug: event.slug,
      version: event.version,
      name: event.name,
      api_base_url: event.api_base_url,
      service_key: event.service_key,
    })
    .onConflict((oc) =>
      oc
        .column('slug')
        .doUpdateSet({
          version: (eb) => eb.ref('excluded.version'),
          name: (eb) => eb.ref('excluded.name'),
          api_base_url: (eb) => eb.ref('excluded.api_base_url'),
          service_key: (eb) => eb.ref('excluded.service_key'),
          updated_at: sql<Date>`now()`,
        })
        .where('partner_services.version', '<', (eb) => eb.ref('excluded.version')),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/**
 * The endpoint and key of a partner service; undefined when no `partner-service.changed` came for it yet.
 *
 * @example
 *   const partner = await findPartnerEndpoint(db, 'slack');
 */
export async function findPartnerEndpoint(
  db: ActionsDatabase,
  slug: string,
): Promise<PartnerEndpoint | undefined> {
  return db
    .selectFrom('partner_services')
    .select(['slug', 'api_base_url', 'service_key'])
    .where('slug', '=', slug)
    .executeTakeFirst();
}
