import { HttpProblem, OutboundUrlError, type OutboundUrlPolicy, type SecretKeyring } from '@ittd/platform';

/**
 * What the partner registry needs to keep keys and URLs safe: `keyring` seals the stored service keys
 * (SECRETS_KEYS), `eventKeys` seals them inside `partner-service.changed` (EVENTS_SECRETS_KEYS, shared by
 * the engine), `urlPolicy` checks a partner's API base URL (https outside `local`, no private addresses).
 */
export interface PartnerSecrets {
  keyring: SecretKeyring;
  eventKeys: SecretKeyring;
  urlPolicy: OutboundUrlPolicy;
}

/**
 * Checks a partner's API base URL when it is registered or changed: a 422 naming `api_base_url` when it
 * breaks the policy (http outside `local`, an address in a loopback, link-local or private range). A name
 * that does not resolve (yet) is accepted: nothing can be reached through it, and trigger-poller and actions
 * check the URL again before every call.
 *
 * @example
 *   await checkPartnerUrl(secrets.urlPolicy, input.api_base_url);
 */
export async function checkPartnerUrl(policy: OutboundUrlPolicy, url: string): Promise<void> {
  try {
    await policy.check(url);
  } catch (error) {
    if (!(error instanceof OutboundUrlError)) throw error;
    if (error.kind === 'unresolvable') return;
    throw new HttpProblem(422, {
      detail: 'The partner service URL is not allowed.',
      errors: [{ name: 'api_base_url', reason: error.message }],
    });
  }
}
