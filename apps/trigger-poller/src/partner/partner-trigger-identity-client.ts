import { fetchFailureReason } from '@ittd/platform';
import type { OutboundUrlPolicy } from '@ittd/platform';
import { checkPartnerUrl, KEY_REJECTED_STATUSES, PartnerCallError } from './partner-trigger-client';

/** One `DELETE {api_base_url}/ifttt/v1/triggers/{trigger_slug}/trigger_identity/{trigger_identity}`. */
export interface TriggerIdentityDelete {
  apiBaseUrl: string;
  serviceKey: string;
  serviceSlug: string;
  triggerSlug: string;
  triggerIdentity: string;
  timeoutMs: number;
  /** Checked before the call; a refused URL is a {@link PartnerCallError}. */
  urlPolicy: OutboundUrlPolicy;
  /** The caller's signal (the job's): aborting it aborts the call and rethrows the abort reason. */
  signal: AbortSignal;
  /** Sent as `X-Request-ID`. */
  requestId: string;
}

/**
 * Tells a partner that no applet uses a trigger identity any more (IFTTT Service API; see
 * ../shared/reference/README.md), so it can stop keeping events for it. Resolves `'deleted'` on a 2xx and
 * `'unknown'` on a 404 (the partner does not know the identity: nothing left to delete, so done as well).
 * Throws {@link PartnerCallError} otherwise: `serviceKeyRejected` on 401/403 (no retry can pass until the key
 * changes), a plain one on 5xx, other statuses, time-outs and unreachable partners (retry with backoff). The
 * answer's body is not read beyond its status.
 *
 * @example
 *   await deleteTriggerIdentity({ apiBaseUrl: 'https://weather.example', serviceKey, serviceSlug: 'weather',
 *     triggerSlug: 'rain_tomorrow', triggerIdentity: '9c', timeoutMs: 10_000, urlPolicy, signal, requestId: 'delete-1-1' });
 */
export async function deleteTriggerIdentity(call: TriggerIdentityDelete): Promise<'deleted' | 'unknown'> {
  const url =
    `${call.apiBaseUrl.replace(/\/+$/, '')}/ifttt/v1/triggers/${encodeURIComponent(call.triggerSlug)}` +
    `/trigger_identity/${encodeURIComponent(call.triggerIdentity)}`;
  const what = `partner ${call.serviceSlug} (DELETE trigger identity of ${call.triggerSlug})`;
  await checkPartnerUrl(call.urlPolicy, call.apiBaseUrl, what);
  const timeout = AbortSignal.timeout(call.timeoutMs);
  let status: number;
  try {
    const response = await fetch(url, {
      method: 'DELETE',
      headers: {
        accept: 'application/json',
        'ifttt-service-key': call.serviceKey,
        'x-request-id': call.requestId,
      },
      signal: AbortSignal.any([call.signal, timeout]),
      redirect: 'error',
    });
    status = response.status;
    await response.body?.cancel();
  } catch (error) {
    if (call.signal.aborted) throw call.signal.reason;
    if (timeout.aborted) throw new PartnerCallError(`${what} did not answer within ${call.timeoutMs} ms`);
    const reason = fetchFailureReason(error);
    throw new PartnerCallError(`${what} could not be reached: ${reason}`);
  }
  if (status >= 200 && status <= 299) return 'deleted';
  if (status === 404) return 'unknown';
  if (KEY_REJECTED_STATUSES.has(status)) {
    throw new PartnerCallError(
      `${what} rejected the service key (HTTP ${status}); retries cannot succeed until the partner's service_key is updated`,
      status,
    );
  }
  throw new PartnerCallError(`${what} answered HTTP ${status}`, status);
}
