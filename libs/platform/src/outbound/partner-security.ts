import { SecretKeyring } from '../crypto/secret-keyring';
import { outboundUrlPolicy, type OutboundUrlPolicy } from './outbound-url-policy';

/**
 * What a service that keeps partner credentials and calls partners needs: `keyring` seals the credentials it
 * stores (SECRETS_KEYS, `secretsConfig`), `eventKeys` opens (or seals) the ones events carry sealed
 * (EVENTS_SECRETS_KEYS, the same in every service of one engine), `urlPolicy` checks a partner's URL at
 * registration and before every call (`partnerUrlConfig`: ENVIRONMENT, PARTNER_ALLOWED_NETWORKS).
 */
export interface PartnerSecurity {
  keyring: SecretKeyring;
  eventKeys: SecretKeyring;
  urlPolicy: OutboundUrlPolicy;
}

/** The settings {@link partnerSecurity} reads (already validated by the service's config schema). */
export interface PartnerSecuritySettings {
  SECRETS_KEYS: string;
  EVENTS_SECRETS_KEYS: string;
  ENVIRONMENT: string;
  PARTNER_ALLOWED_NETWORKS: string;
}

const byContext = new WeakMap<object, PartnerSecurity>();

/**
 * The context's {@link PartnerSecurity}, made once per service context (keys parsed once, so every part of
 * a process shares one keyring) and cached by the context object.
 *
 * @example
 *   const { keyring, eventKeys, urlPolicy } = partnerSecurity(ctx);
 *   await urlPolicy.check(partner.api_base_url);
 */
export function partnerSecurity(ctx: { config: PartnerSecuritySettings }): PartnerSecurity {
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
