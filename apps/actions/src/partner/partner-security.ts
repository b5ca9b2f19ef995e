import { outboundUrlPolicy, SecretKeyring, type OutboundUrlPolicy } from '@ittd/platform';
import type { ActionsContext } from '../actions-context';

/**
 * The service's keys and partner URL rules: `keyring` seals the stored partner keys (SECRETS_KEYS),
 * `eventKeys` opens the keys `partner-service.changed` carries sealed (EVENTS_SECRETS_KEYS), `urlPolicy`
 * checks a partner's URL before every call.
 */
export interface PartnerSecurity {
  keyring: SecretKeyring;
  eventKeys: SecretKeyring;
  urlPolicy: OutboundUrlPolicy;
}

const byContext = new WeakMap<ActionsContext, PartnerSecurity>();

/**
 * The context's {@link PartnerSecurity}, made once per context (keys parsed once; the config checked them).
 *
 * @example
 *   const { keyring, urlPolicy } = partnerSecurity(ctx);
 */
export function partnerSecurity(ctx: ActionsContext): PartnerSecurity {
  let security = byContext.get(ctx);
  if (!security) {
    security = {
      keyring: SecretKeyring.fromSetting(ctx.config.SECRETS_KEYS),
      eventKeys: SecretKeyring.fromSetting(ctx.config.EVENTS_SECRETS_KEYS),
      urlPolicy: outboundUrlPolicy(ctx.config),
    };
    byContext.set(ctx, security);
  }
  return security;
}

/**
 * The sealing context of a stored partner key: binds the sealed value to its row.
 *
 * @example
 *   keyring.open(row.service_key_sealed, partnerKeyContext(row.slug));
 */
export function partnerKeyContext(slug: string): string {
  return `actions.partner_services.service_key:${slug}`;
}
