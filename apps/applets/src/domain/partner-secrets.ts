import { HttpProblem, OutboundUrlError, type OutboundUrlPolicy, type PartnerSecurity } from '@ittd/platform';

/**
 * What the partner registry needs to keep keys and URLs safe: the platform's `PartnerSecurity` (`keyring`
 * seals the stored service keys, `eventKeys` seals them inside `partner-service.changed`, `urlPolicy` checks
 * a partner's API base URL).
 */
export type PartnerSecrets = PartnerSecurity;

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
