import { HttpProblem, publish } from '@ittd/platform';
import { partnerServiceChanged } from '@ittd/engine-events';
import type { Transaction } from 'kysely';
import type { AppletsDatabase, DB } from '../data/database';
import {
  insertPartnerService,
  listPartnerServices,
  updatePartnerService,
  type NewPartnerServiceRow,
  type PartnerServiceRow,
  type PartnerServiceRowPatch,
} from '../data/partner-service-repository';
import type { PublishContext } from './publish-context';

/**
 * A partner service as the API shows it: never its service key. `version` counts its changes (the
 * `version` of `partner-service.changed`).
 *
 * @example
 *   { slug: 'weather', name: 'Weather Underground', api_base_url: 'https://weather.example', version: 1,
 *     created_at: '…', updated_at: '…' }
 */
export interface PartnerService {
  slug: string;
  name: string;
  api_base_url: string;
  version: number;
  created_at: string;
  updated_at: string;
}

/** Maps a registry row to its API shape, dropping the key if the row has one. */
function toPartnerService(row: PartnerServiceRow): PartnerService {
  return {
    slug: row.slug,
    name: row.name,
    api_base_url: row.api_base_url,
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** What registering a partner service needs; `service_key` is stored and never returned. */
export type RegisterPartnerServiceInput = NewPartnerServiceRow;

/** What changing a partner service may set (at least one); a new `service_key` rotates the key. */
export type ChangePartnerServiceInput = PartnerServiceRowPatch;

/** Publishes the registry entry after a change, key included (the event is for the engine only). */
async function publishPartnerServiceChanged(
  trx: Transaction<DB>,
  row: PartnerServiceRow & { service_key: string },
  publishing: PublishContext,
): Promise<void> {
  await publish(
    trx,
    partnerServiceChanged,
    {
      slug: row.slug,
      version: row.version,
      name: row.name,
      api_base_url: row.api_base_url,
      service_key: row.service_key,
      changed_at: row.updated_at.toISOString(),
    },
    publishing,
  );
}

/**
 * Registers a partner service and publishes `partner-service.changed` (version 1) in the same transaction;
 * 409 when the slug is taken (the existing key is left untouched, nothing is published).
 *
 * @example
 *   const service = await registerPartnerService(db, { slug: 'weather', name: 'Weather', api_base_url, service_key });
 */
export async function registerPartnerService(
  db: AppletsDatabase,
  input: RegisterPartnerServiceInput,
  publishing: PublishContext = {},
): Promise<PartnerService> {
  return db.transaction().execute(async (trx) => {
    const row = await insertPartnerService(trx, input);
    if (row === undefined) {
      throw new HttpProblem(409, {
        detail: `partner service "${input.slug}" is already registered`,
        errors: [{ name: 'slug', reason: 'already registered' }],
      });
    }
    await publishPartnerServiceChanged(trx, { ...row, service_key: input.service_key }, publishing);
    return toPartnerService(row);
  });
}

/**
 * Changes a partner service's name, API base URL and/or service key, bumps its version and publishes
 * `partner-service.changed` in the same transaction, so subscribers rotate a key with this one change;
 * 404 for an unknown slug. The answer never holds the key.
 *
 * @example
 *   await changePartnerService(db, 'weather', { service_key: 'sk_new_0123456789abcdef' }, { requestId: req.id });
 */
export async function changePartnerService(
  db: AppletsDatabase,
  slug: string,
  input: ChangePartnerServiceInput,
  publishing: PublishContext = {},
): Promise<PartnerService> {
  return db.transaction().execute(async (trx) => {
    const row = await updatePartnerService(trx, slug, input);
    if (row === undefined) {
      throw new HttpProblem(404, { detail: `partner service ${JSON.stringify(slug)} is not registered` });
    }
    await publishPartnerServiceChanged(trx, row, publishing);
    return toPartnerService(row);
  });
}

/**
 * Lists the registry (for users choosing services), without keys.
 *
 * @example
 *   res.json({ data: await listRegisteredServices(db) });
 */
export async function listRegisteredServices(db: AppletsDatabase): Promise<PartnerService[]> {
  const rows = await listPartnerServices(db);
  return rows.map(toPartnerService);
}
