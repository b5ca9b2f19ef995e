import type { SecretKeyring } from '@ittd/platform';
import { hashServiceKey } from './service-key-hash';

/**
 * The sealing context of a partner's stored service key: binds the sealed value to its row, so it opens for
 * no other partner.
 *
 * @example
 *   keyring.open(row.service_key_sealed, partnerKeyContext(row.slug));
 */
export function partnerKeyContext(slug: string): string {
  return `trigger-poller.partners.service_key:${slug}`;
}

/**
 * What storing a partner's service key writes: the key sealed under SECRETS_KEYS and its SHA-256 (how a
 * notification's key is matched).
 *
 * @example
 *   await db.insertInto('partners').values({ slug, name, api_base_url, ...partnerKeyColumns(keyring, slug, key) });
 */
export function partnerKeyColumns(
  keyring: SecretKeyring,
  slug: string,
  serviceKey: string,
): { service_key_sealed: string; service_key_sha256: string } {
  return {
    service_key_sealed: keyring.seal(serviceKey, partnerKeyContext(slug)),
    service_key_sha256: hashServiceKey(serviceKey),
  };
}
