import { HttpProblem } from '@ittd/platform';
import type { AppletsDatabase } from '../data/database';
import {
  insertPartnerService,
  listPartnerServices,
  type NewPartnerServiceRow,
  type PartnerServiceRow,
} from '../data/partner-service-repository';

/**
 * A partner service as the API shows it: never its service key.
 *
 * @example
 *   { slug: 'weather', name: 'Weather Underground', api_base_url: 'https://weather.example', created_at: '…' }
 */
export interface PartnerService {
  slug: string;
  name: string;
  api_base_url: string;
  created_at: string;
  updated_at: string;
}

/** Maps a registry row (which never holds the key) to its API shape. */
function toPartnerService(row: PartnerServiceRow): PartnerService {
  return { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

/** What registering a partner service needs; `service_key` is stored and never returned. */
export type RegisterPartnerServiceInput = NewPartnerServiceRow;

/**
 * Registers a partner service; 409 when the slug is taken (the existing key is left untouched).
 *
 * @example
 *   const service = await registerPartnerService(db, { slug: 'weather', name: 'Weather', api_base_url, service_key });
 */
export async function registerPartnerService(
  db: AppletsDatabase,
  input: RegisterPartnerServiceInput,
): Promise<PartnerService> {
  const row = await insertPartnerService(db, input);
  if (row === undefined) {
    throw new HttpProblem(409, {
      detail: `partner service "${input.slug}" is already registered`,
      errors: [{ name: 'slug', reason: 'already registered' }],
    });
  }
  return toPartnerService(row);
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
