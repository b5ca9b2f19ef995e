import { HttpProblem, publish, SecretOpenError } from '@ittd/platform';
import { partnerServiceChanged, partnerServiceKeyContext as eventKeyContext } from '@ittd/engine-events';
import type { Transaction } from 'kysely';
import { partnerServiceKeyContext, type AppletsDatabase, type DB } from '../data/database';
import {
  insertPartnerService,
  listPartnerServices,
  updatePartnerService,
  type PartnerServiceRow,
  type PartnerServiceRowPatch,
} from '../data/partner-service-repository';
import { checkPartnerUrl, type PartnerSecrets } from './partner-secrets';
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

/** What registering a partner service needs; `service_key` is stored sealed and never returned. */
export interface RegisterPartnerServiceInput {
  slug: string;
  name: string;
  api_base_url: string;
  service_key: string;
}

/** What changing a partner service may set (at least one); a new `service_key` rotates the key. */
export type ChangePartnerServiceInput = Partial<
  Pick<RegisterPartnerServiceInput, 'name' | 'api_base_url' | 'service_key'>
>;

/**
 * Publishes the registry entry after a change, the key sealed under the engine's events keys (so neither the
 * outbox row nor the stream holds it in clear; the event is for the engine only).
 */
async function publishPartnerServiceChanged(
  trx: Transaction<DB>,
  row: PartnerServiceRow,
  serviceKey: string,
  secrets: PartnerSecrets,
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
      service_key_sealed: secrets.eventKeys.seal(serviceKey, eventKeyContext(row.slug)),
      changed_at: row.updated_at.toISOString(),
    },
    publishing,
  );
}

/**
 * Registers a partner service and publishes `partner-service.changed` (version 1) in the same transaction;
 * 422 naming `api_base_url` when the URL breaks the partner URL policy, 409 when the slug is taken (the
 * existing key is left untouched, nothing is published). The key is stored sealed under SECRETS_KEYS.
 *
 * @example
 *   const service = await registerPartnerService(db, secrets, { slug: 'weather', name: 'Weather', api_base_url, service_key });
 */
export async function registerPartnerService(
  db: AppletsDatabase,
  secrets: PartnerSecrets,
  input: RegisterPartnerServiceInput,
  publishing: PublishContext = {},
): Promise<PartnerService> {
  await checkPartnerUrl(secrets.urlPolicy, input.api_base_url);
  const { service_key: serviceKey, ...rest } = input;
  return db.transaction().execute(async (trx) => {
    const row = await insertPartnerService(trx, {
      ...rest,
      service_key_sealed: secrets.keyring.seal(serviceKey, partnerServiceKeyContext(input.slug)),
    });
    if (row === undefined) {
      throw new HttpProblem(409, {
        detail: `partner service "${input.slug}" is already registered`,
        errors: [{ name: 'slug', reason: 'already registered' }],
      });
    }
    await publishPartnerServiceChanged(trx, row, serviceKey, secrets, publishing);
    return toPartnerService(row);
  });
}

/**
 * Changes a partner service's name, API base URL and/or service key, bumps its version and publishes
 * `partner-service.changed` in the same transaction, so subscribers rotate a key with this one change;
 * 404 for an unknown slug, 422 naming `api_base_url` for a URL the policy refuses. The answer never holds
 * the key; the event holds it sealed (the stored one is opened for that when the key is not changed).
 *
 * @example
 *   await changePartnerService(db, secrets, 'weather', { service_key: 'sk_new_0123456789abcdef' }, { requestId: req.id });
 */
export async function changePartnerService(
  db: AppletsDatabase,
  secrets: PartnerSecrets,
  slug: string,
  input: ChangePartnerServiceInput,
  publishing: PublishContext = {},
): Promise<PartnerService> {
  if (input.api_base_url !== undefined) await checkPartnerUrl(secrets.urlPolicy, input.api_base_url);
  const context = partnerServiceKeyContext(slug);
  const { service_key: newKey, ...rest } = input;
  const patch: PartnerServiceRowPatch =
    newKey === undefined ? rest : { ...rest, service_key_sealed: secrets.keyring.seal(newKey, context) };
  return db.transaction().execute(async (trx) => {
    const row = await updatePartnerService(trx, slug, patch);
    if (row === undefined) {
      throw new HttpProblem(404, { detail: `partner service ${JSON.stringify(slug)} is not registered` });
    }
    const { service_key_sealed: sealed, ...publicRow } = row;
    const serviceKey = newKey ?? openStoredKey(secrets, sealed, context);
    await publishPartnerServiceChanged(trx, publicRow, serviceKey, secrets, publishing);
    return toPartnerService(publicRow);
  });
}

/**
 * Opens a stored key for the event; a key SECRETS_KEYS cannot open (still in clear before `rotate-secrets`,
 * or sealed under a key id no longer listed) is a 409 saying what helps, never a 500.
 */
function openStoredKey(secrets: PartnerSecrets, sealed: string, context: string): string {
  try {
    return secrets.keyring.open(sealed, context);
  } catch (error) {
    if (!(error instanceof SecretOpenError)) throw error;
    throw new HttpProblem(409, {
      detail:
        'The stored service key cannot be opened with SECRETS_KEYS: send a new service_key, or run rotate-secrets with the key it was sealed under listed.',
    });
  }
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
