/**
 * The sealing context of a stored partner key: binds the sealed value to its row.
 *
 * @example
 *   keyring.open(row.service_key_sealed, partnerKeyContext(row.slug));
 */
export function partnerKeyContext(slug: string): string {
  return `actions.partner_services.service_key:${slug}`;
}
